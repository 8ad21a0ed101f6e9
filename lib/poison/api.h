/* Forced into every file of lib/api: service, core and jansson; never the store itself. */
#pragma GCC poison sqlite3 config_t CURL ev_loop MHD_Daemon PGconn EVP_MD
