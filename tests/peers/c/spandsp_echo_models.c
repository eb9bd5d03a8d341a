/* Prints one of the ITU-T G.168 Annex D hybrid echo path models, as shipped in spandsp's
 * g168models.h, one integer coefficient per line (8 kHz, arbitrary scale).
 * Usage: spandsp_echo_models <d2|d3|d4|d5|d6|d7|d8|d9> */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <spandsp.h>
#include <spandsp/g168models.h>

#define MODEL(n) { #n, line_model_##n##_coeffs, sizeof(line_model_##n##_coeffs) / sizeof(int32_t) }

int main(int argc, char **argv)
{
    static const struct { const char *name; const int32_t *c; size_t n; } models[] = {
        MODEL(d2), MODEL(d3), MODEL(d4), MODEL(d5), MODEL(d6), MODEL(d7), MODEL(d8), MODEL(d9)
    };
    size_t i, k;
    if (argc < 2) return 2;
    for (i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        if (strcmp(argv[1], models[i].name) == 0) {
            for (k = 0; k < models[i].n; k++) printf("%d\n", (int) models[i].c[k]);
            return 0;
        }
    }
    fprintf(stderr, "unknown model %s\n", argv[1]);
    return 2;
}
