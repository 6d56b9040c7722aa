/* util.h - inline helpers, so that line rows point into a header in a
 * subdirectory (a second directory entry in the line table). */
#ifndef UTIL_H
#define UTIL_H
static inline int mix(int a, int b)
{
    int r = a * 31 + b;
    if (r & 1)
        r ^= 0x5bd1e995;
    return r;
}
#endif
