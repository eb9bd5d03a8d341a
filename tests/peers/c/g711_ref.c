/* Prints spandsp's G.711 answers for every code word and every 16-bit sample.
 * Output (binary, stdout):
 *   256 x int16 alaw_to_linear, 256 x int16 ulaw_to_linear,
 *   65536 x uint8 linear_to_alaw(-32768..32767), 65536 x uint8 linear_to_ulaw(...) */
#include <stdint.h>
#include <stdio.h>
#include <spandsp.h>

int main(void)
{
    int16_t dec[256];
    uint8_t enc[65536];
    int i;
    for (i = 0; i < 256; i++) dec[i] = alaw_to_linear((uint8_t) i);
    fwrite(dec, sizeof(dec), 1, stdout);
    for (i = 0; i < 256; i++) dec[i] = ulaw_to_linear((uint8_t) i);
    fwrite(dec, sizeof(dec), 1, stdout);
    for (i = 0; i < 65536; i++) enc[i] = linear_to_alaw(i - 32768);
    fwrite(enc, sizeof(enc), 1, stdout);
    for (i = 0; i < 65536; i++) enc[i] = linear_to_ulaw(i - 32768);
    fwrite(enc, sizeof(enc), 1, stdout);
    return 0;
}
