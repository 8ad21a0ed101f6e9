/* Forced into every file of lib/json: core and jansson only. */
#pragma GCC poison sqlite3 config_t CURL ev_loop MHD_Daemon PGconn EVP_MD
