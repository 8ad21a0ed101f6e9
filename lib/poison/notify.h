/* Forced into every file of lib/notify: core, jansson and OpenSSL only. */
#pragma GCC poison sqlite3 config_t CURL ev_loop MHD_Daemon PGconn
