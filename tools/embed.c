/* embed: turn a file into a C source defining a byte array and its length.
 *   embed INPUT OUTPUT SYMBOL
 * Used at build time to compile configs/demo.yaml into the CLI. */
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: embed INPUT OUTPUT SYMBOL\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        fclose(in);
        return 1;
    }
    fprintf(out, "/* generated from %s */\n#include <stddef.h>\nconst char %s[] = {\n", argv[1],
            argv[3]);
    int c;
    size_t n = 0;
    while ((c = fgetc(in)) != EOF) {
        fprintf(out, "%d,%s", c, (++n % 20) ? "" : "\n");
    }
    fprintf(out, "0};\nconst size_t %s_len = %zu;\n", argv[3], n);
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
