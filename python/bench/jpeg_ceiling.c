/*
 * The ceiling of JPEG decoding on one core: libjpeg-turbo's own C loop over every .jpg member of
 * the given tar files (read into memory first, so only decoding is timed), each decoded to RGB
 * rows in one reused buffer. Prints one JSON line: images, seconds, images_per_s.
 *
 *   cc -O2 -o jpeg_ceiling jpeg_ceiling.c -ljpeg && ./jpeg_ceiling img-00000.tar ...
 *
 * (python/bench/loader_bench.py builds and runs it; it needs gcc and libjpeg62-turbo-dev, as the
 * JPEG decoder's JNI library does.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jpeglib.h>

struct member { unsigned char *data; size_t size; };

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t) n);
  if (!b || fread(b, 1, (size_t) n, f) != (size_t) n) { fprintf(stderr, "%s: cannot read\n", path); exit(2); }
  fclose(f);
  *size = (size_t) n;
  return b;
}

/* The .jpg members of a ustar/GNU tar held in memory (long-name records are passed over). */
static size_t jpegs(unsigned char *tar, size_t size, struct member *out, size_t room) {
  size_t at = 0, n = 0;
  while (at + 512 <= size && tar[at] != 0 && n < room) {
    char name[101];
    memcpy(name, tar + at, 100);
    name[100] = 0;
    size_t len = strtoul((char *) tar + at + 124, NULL, 8);
    char type = (char) tar[at + 156];
    size_t nl = strlen(name);
    if ((type == '0' || type == 0) && nl > 4 && strcmp(name + nl - 4, ".jpg") == 0) {
      out[n].data = tar + at + 512;
      out[n].size = len;
      n++;
    }
    at += 512 + (len + 511) / 512 * 512;
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s SHARD.tar...\n", argv[0]); return 2; }
  size_t room = 1 << 20, n = 0;
  struct member *m = malloc(room * sizeof *m);
  for (int i = 1; i < argc; i++) {
    size_t size;
    unsigned char *tar = read_file(argv[i], &size);
    n += jpegs(tar, size, m + n, room - n);
  }
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&cinfo);
  unsigned char *rgb = NULL;
  size_t rgb_size = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (size_t i = 0; i < n; i++) {
    jpeg_mem_src(&cinfo, m[i].data, (unsigned long) m[i].size);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t) cinfo.output_width * 3;
    if (stride * cinfo.output_height > rgb_size) {
      rgb_size = stride * cinfo.output_height;
      rgb = realloc(rgb, rgb_size);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = rgb + stride * cinfo.output_scanline;
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("{\"images\": %zu, \"seconds\": %.4f, \"images_per_s\": %.1f}\n", n, s, n / s);
  jpeg_destroy_decompress(&cinfo);
  return 0;
}
