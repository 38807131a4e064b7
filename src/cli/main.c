/* selfadapt - test-time self-learning adaptation of image classifiers. */
#include <stdio.h>
#include <string.h>

#include "adapt.h"
#include "cli.h"
#include "corruptions.h"
#include "torch.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: selfadapt <command> [options]\n"
            "\n"
            "commands:\n"
            "  run [CONFIG.yaml] [--resume] [--set section.key=value]... [--quiet]\n"
            "                 run a configuration (default: the built-in configs/demo.yaml)\n"
            "  corrupt --input DIR --output DIR [--corruptions LIST] [--severities 1-5] ...\n"
            "                 write corrupted copies of an image folder (ImageNet-C layout);\n"
            "                 'selfadapt corrupt --help' lists the options\n"
            "  report RUN_DIR... [--out DIR] [--alexnet-clean PCT]\n"
            "                 leaderboard of finished runs: mCE, ImageNet-C/R/A/D errors,\n"
            "                 published numbers from a run's reference.json; --out writes\n"
            "                 leaderboard.{md,csv,json} and errors.svg\n"
            "  methods        list the adaptation methods\n"
            "  corruptions    list the corruptions\n"
            "  version        print versions\n"
            "  help           this text\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return sa_cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "corrupt") == 0)
        return sa_cli_corrupt(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return sa_cli_report(argc - 1, argv + 1);
    if (strcmp(cmd, "methods") == 0) {
        for (const char *const *n = sa_method_names(); *n; n++)
            printf("%-8s %s\n", *n, sa_method_summary(*n));
        return 0;
    }
    if (strcmp(cmd, "corruptions") == 0) {
        for (int k = 0; k < SA_CORRUPT_COUNT; k++)
            if (sa_corruption_available((sa_corruption)k))
                printf("%-18s %s\n", sa_corruption_name((sa_corruption)k),
                   sa_corruption_family((sa_corruption)k));
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("selfadapt %s (libtorch %s, %d CUDA device(s))\n", SA_VERSION, sa_torch_version(),
               sa_torch_cuda_device_count());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "selfadapt: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
