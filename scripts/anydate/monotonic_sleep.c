/* Preloaded before Debian's libfaketime by scripts/anydate/run.py (`make test-anydate`).
 *
 * libfaketime 0.9.10 (Debian bookworm) moves only the wall clock when FAKETIME_DONT_FAKE_MONOTONIC=1, but its
 * clock_nanosleep() still shifts an absolute CLOCK_MONOTONIC deadline by the fake offset, so the kernel gets a
 * negative time: Python 3.11's time.sleep() (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...)) fails with
 * EINVAL (wolfcw/libfaketime#426). Faking the monotonic clock too is no way out: glibc's sem_clockwait() (every
 * threading wait with a timeout) then waits on the real monotonic clock for a fake deadline, a year away.
 * So sleeps on any clock but the wall clock go straight to the kernel; wall-clock sleeps stay libfaketime's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *request, struct timespec *remain) {
    static int (*next)(clockid_t, int, const struct timespec *, struct timespec *);
    if (clock_id != CLOCK_REALTIME) {
        /* clock_nanosleep returns the error number (it does not set errno). */
        return syscall(SYS_clock_nanosleep, clock_id, flags, request, remain) == 0 ? 0 : errno;
    }
    if (next == NULL) {
        next = (int (*)(clockid_t, int, const struct timespec *, struct timespec *))dlsym(RTLD_NEXT, "clock_nanosleep");
    }
    return next(clock_id, flags, request, remain);
}
