/* Forced into every file of lib/store: the store uses core and its database only. */
#pragma GCC poison json_t config_t CURL ev_loop MHD_Daemon EVP_MD
