/* A minimal TAP producer for the unit tests: "ok N - name" lines. */
#ifndef POSTERN_TAP_H
#define POSTERN_TAP_H

int	tap_ok(int, const char *, ...) __attribute__((format(printf, 2, 3)));
int	tap_done(void);

#define ok(cond, ...)	tap_ok(!!(cond), __VA_ARGS__)

#endif
