/* Forced into every file of lib/conf: the loader uses core and libconfig only. */
#pragma GCC poison sqlite3 json_t CURL ev_loop MHD_Daemon PGconn EVP_MD
