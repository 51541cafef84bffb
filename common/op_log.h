/*
 * Logging: one line per message on stderr, "<level> module: text".
 * journald picks stderr up when run under systemd.
 */
#ifndef OP_LOG_H
#define OP_LOG_H

enum op_log_level { OP_LOG_ERROR, OP_LOG_WARN, OP_LOG_INFO, OP_LOG_DEBUG };

/* Sets the program name shown in each line and the most verbose level. */
void op_log_init(const char *program, enum op_log_level level);

void op_log(enum op_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define op_error(mod, ...) op_log(OP_LOG_ERROR, mod, __VA_ARGS__)
#define op_warn(mod, ...)  op_log(OP_LOG_WARN, mod, __VA_ARGS__)
#define op_info(mod, ...)  op_log(OP_LOG_INFO, mod, __VA_ARGS__)
#define op_debug(mod, ...) op_log(OP_LOG_DEBUG, mod, __VA_ARGS__)

#endif
