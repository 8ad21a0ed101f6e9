/* Forced into every file of lib/service: core, store and notify only; no JSON of its own. */
#pragma GCC poison sqlite3 json_t config_t CURL ev_loop MHD_Daemon PGconn EVP_MD
