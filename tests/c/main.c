/* main.c - the test program's entry; loops and inlined calls give
 * discriminators and is_stmt changes at -O2. */
#include <stdio.h>
#include "inc/util.h"

int lib_sum(const int *v, int n);
int lib_pick(int x);

static int table[64];

int main(int argc, char **argv)
{
    int acc = argc;
    for (int i = 0; i < 64; i++)
        table[i] = mix(i, acc) + lib_pick(i);
    for (int j = 0; j < 3; j++) acc += lib_sum(table, 64 - j);
    printf("%d %s\n", acc, argv[0]);
    return acc == 42;
}
