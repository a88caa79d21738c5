/* vanderpool: command-line front end (placeholder until the CLI lands). */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vanderpool: not yet\n");
    return 2;
}
