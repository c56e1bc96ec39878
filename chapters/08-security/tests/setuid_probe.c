/* A setuid-root program for chapter 8's test: does it get root's powers?
 * Prints its effective uid, its effective capabilities, and whether it
 * could mount a tmpfs on /mnt (which only CAP_SYS_ADMIN allows). */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mount.h>

int main(void) {
    char line[256];
    FILE *status = fopen("/proc/self/status", "r");
    printf("euid=%d\n", (int)geteuid());
    while (status && fgets(line, sizeof line, status))
        if (strncmp(line, "CapEff:", 7) == 0)
            printf("%s", line);
    if (mount("none", "/mnt", "tmpfs", 0, NULL) == 0)
        printf("mount=ok\n");
    else
        printf("mount=%s\n", strerror(errno));
    return 0;
}
