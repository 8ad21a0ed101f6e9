/* Forced into every file of lib/core: the functional core uses libical and libc only. */
#pragma GCC poison sqlite3 json_t config_t CURL ev_loop MHD_Daemon PGconn EVP_MD
