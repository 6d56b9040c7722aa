/* lib.c - a second compile unit. */
#include "inc/util.h"

int lib_sum(const int *v, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s = mix(s, v[i]);
    return s;
}

int lib_pick(int x)
{
    switch (x & 3) {
    case 0: return x + 1;
    case 1: return x * 2;
    case 2: return x - 3;
    default: return mix(x, x);
    }
}
