/*
 * JPEG to RGB with libjpeg-turbo (Debian's libjpeg62-turbo, SIMD), for
 * dev.conveyor.streams.decode.TurboJpeg: the picture is decoded at the smallest DCT scale
 * (N/8) that is still at least the size wanted, then resized (bilinear, fixed point) and
 * cropped in one pass into the caller's array; at the exact size the rows the crop needs are
 * decoded straight into it. Errors come back as a message, never as exit(): libjpeg's error
 * handler jumps back here.
 */
#include <jni.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

struct failure {
  struct jpeg_error_mgr mgr;
  jmp_buf back;
  char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr c) {
  struct failure *f = (struct failure *) c->err;
  (*c->err->format_message)(c, f->message);
  longjmp(f->back, 1);
}

/* Corrupt data is a failure, not a warning: a truncated picture must not pass as a whole one. */
static void on_message(j_common_ptr c, int level) {
  if (level < 0) {
    on_error(c);
  }
}

/* The smallest N in 1..8 with the picture at N/8 still covering the wanted size (8: no scaling). */
static int dct_scale(int w, int h, int want_w, int want_h) {
  for (int n = 1; n < 8; n++) {
    if ((w * n + 7) / 8 >= want_w && (h * n + 7) / 8 >= want_h) {
      return n;
    }
  }
  return 8;
}

/*
 * Where position p of a side scaled to `scaled` pixels reads from a side of `decoded` pixels:
 * the pixel index, and in *weight the share (of 2048) of the next pixel; centre-aligned and
 * clamped to the picture.
 */
static int source(int p, int scaled, int decoded, int *weight) {
  long f = ((2L * p + 1) * decoded * 1024) / scaled - 1024;
  if (f < 0) {
    f = 0;
  }
  int i = (int) (f >> 11);
  if (i >= decoded - 1) {
    i = decoded - 1;
    f = (long) i << 11;
  }
  *weight = (int) (f - ((long) i << 11));
  return i;
}

/*
 * Output column x of the crop comes from scaled column (flip ? cx + inside - 1 - x : cx + x);
 * columns past the picture (x >= inside) and rows past it are black, as Geometry.copy does.
 */
static void resample(const unsigned char *src, int ow, int oh, int sw, int sh, int cx, int cy, int cw, int ch,
                     int flip, unsigned char *out) {
  int inside = sw - cx < cw ? sw - cx : cw;
  if (inside < 0) {
    inside = 0;
  }
  /* each output column's source pixel and weight, worked out once for all rows */
  int *x0 = malloc(sizeof(int) * (inside > 0 ? inside : 1));
  int *wx = malloc(sizeof(int) * (inside > 0 ? inside : 1));
  for (int x = 0; x < inside; x++) {
    x0[x] = source(flip ? cx + inside - 1 - x : cx + x, sw, ow, &wx[x]);
  }
  for (int y = 0; y < ch; y++) {
    unsigned char *row = out + (size_t) y * cw * 3;
    int py = cy + y;
    if (py >= sh) {
      memset(row, 0, (size_t) cw * 3);
      continue;
    }
    int wy;
    int j = source(py, sh, oh, &wy);
    const unsigned char *r0 = src + (size_t) j * ow * 3;
    const unsigned char *r1 = src + (size_t) (j + 1 < oh ? j + 1 : j) * ow * 3;
    for (int x = 0; x < inside; x++) {
      int i = x0[x];
      int i1 = i + 1 < ow ? i + 1 : i;
      int a = wx[x];
      for (int k = 0; k < 3; k++) {
        int top = r0[i * 3 + k] * (2048 - a) + r0[i1 * 3 + k] * a;
        int bottom = r1[i * 3 + k] * (2048 - a) + r1[i1 * 3 + k] * a;
        long v = ((long) top * (2048 - wy) + (long) bottom * wy + (1L << 21)) >> 22;
        row[x * 3 + k] = (unsigned char) v;
      }
    }
    memset(row + (size_t) inside * 3, 0, (size_t) (cw - inside) * 3);
  }
  free(x0);
  free(wx);
}

/* Decodes at the exact scaled size: the crop's rows only, straight into out when they are whole rows. */
static void exact(j_decompress_ptr c, int cx, int cy, int cw, int ch, int flip, unsigned char *out,
                  unsigned char *line) {
  int ow = (int) c->output_width;
  int oh = (int) c->output_height;
  int inside = ow - cx < cw ? ow - cx : cw;
  if (inside < 0) {
    inside = 0;
  }
  int rows = oh - cy < ch ? oh - cy : ch;
  if (rows < 0) {
    rows = 0;
  }
  jpeg_start_decompress(c);
  if (cy > 0 && rows > 0) {
    jpeg_skip_scanlines(c, (JDIMENSION) cy);
  }
  int direct = !flip && cx == 0 && cw == ow;
  for (int y = 0; y < rows; y++) {
    unsigned char *dst = out + (size_t) y * cw * 3;
    if (direct) {
      jpeg_read_scanlines(c, &dst, 1);
      continue;
    }
    jpeg_read_scanlines(c, &line, 1);
    if (!flip) {
      memcpy(dst, line + (size_t) cx * 3, (size_t) inside * 3);
    } else {
      for (int x = 0; x < inside; x++) {
        memcpy(dst + (size_t) x * 3, line + (size_t) (cx + inside - 1 - x) * 3, 3);
      }
    }
    memset(dst + (size_t) inside * 3, 0, (size_t) (cw - inside) * 3);
  }
  for (int y = rows; y < ch; y++) {
    memset(out + (size_t) y * cw * 3, 0, (size_t) cw * 3);
  }
  jpeg_abort_decompress(c); /* the rows below the crop are not needed */
}

/*
 * Java: static native String decode(byte[] src, int offset, int length, int width, int height,
 *   int scaledWidth, int scaledHeight, int cropX, int cropY, int cropWidth, int cropHeight,
 *   boolean flip, byte[] out, int[] scale)
 * Returns null when out holds the crop, else why not (UNSUPPORTED_COLOURS for CMYK and YCCK,
 * which libjpeg does not turn into RGB). scale[0] gets the DCT scale used (N of N/8).
 */
#define UNSUPPORTED_COLOURS "CMYK or YCCK colours"

JNIEXPORT jstring JNICALL Java_dev_conveyor_streams_decode_TurboJpeg_decode(
    JNIEnv *env, jclass cls, jbyteArray src, jint offset, jint length, jint width, jint height, jint sw, jint sh,
    jint cx, jint cy, jint cw, jint ch, jboolean flip, jbyteArray out, jintArray scale) {
  (void) cls;
  if ((*env)->GetArrayLength(env, out) < (jlong) cw * ch * 3) {
    return (*env)->NewStringUTF(env, "the output array is smaller than the crop");
  }
  /* the compressed bytes are copied once into native memory: no Java array is pinned while libjpeg runs */
  unsigned char *in = malloc((size_t) length);
  if (in == NULL) {
    return (*env)->NewStringUTF(env, "out of native memory for the compressed bytes");
  }
  (*env)->GetByteArrayRegion(env, src, offset, length, (jbyte *) in);
  struct jpeg_decompress_struct c;
  struct failure f;
  /* volatile: set after setjmp and read after a longjmp back to it */
  unsigned char *volatile picture = NULL;
  unsigned char *volatile line = NULL;
  unsigned char *volatile dst = NULL;
  jstring why = NULL;
  c.err = jpeg_std_error(&f.mgr);
  f.mgr.error_exit = on_error;
  f.mgr.emit_message = on_message;
  jpeg_create_decompress(&c);
  if (setjmp(f.back)) {
    if (dst != NULL) {
      (*env)->ReleasePrimitiveArrayCritical(env, out, dst, JNI_ABORT);
    }
    why = (*env)->NewStringUTF(env, f.message);
    goto done;
  }
  jpeg_mem_src(&c, in, (unsigned long) length);
  jpeg_read_header(&c, TRUE);
  if ((jint) c.image_width != width || (jint) c.image_height != height) {
    char m[160];
    snprintf(m, sizeof m, "the JPEG frame is %ux%u, its header said %dx%d", c.image_width, c.image_height, width, height);
    why = (*env)->NewStringUTF(env, m);
    goto done;
  }
  if (c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK) {
    why = (*env)->NewStringUTF(env, UNSUPPORTED_COLOURS);
    goto done;
  }
  c.out_color_space = JCS_RGB;
  c.scale_num = (unsigned int) dct_scale(width, height, sw, sh);
  c.scale_denom = 8;
  jpeg_calc_output_dimensions(&c);
  jint n = (jint) c.scale_num;
  (*env)->SetIntArrayRegion(env, scale, 0, 1, &n);
  if ((int) c.output_width == sw && (int) c.output_height == sh) {
    line = malloc((size_t) c.output_width * 3);
    if (line == NULL) {
      why = (*env)->NewStringUTF(env, "out of native memory for a row");
      goto done;
    }
    /* critical: no JNI calls and no blocking until released; decoding the crop takes well under a millisecond */
    dst = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    exact(&c, cx, cy, cw, ch, flip, dst, line);
    (*env)->ReleasePrimitiveArrayCritical(env, out, dst, 0);
    dst = NULL;
  } else {
    int ow = (int) c.output_width;
    int oh = (int) c.output_height;
    jpeg_start_decompress(&c);
    picture = malloc((size_t) ow * oh * 3);
    if (picture == NULL) {
      jpeg_abort_decompress(&c);
      why = (*env)->NewStringUTF(env, "out of native memory for the picture");
      goto done;
    }
    while (c.output_scanline < c.output_height) {
      unsigned char *row = picture + (size_t) c.output_scanline * ow * 3;
      jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    dst = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    resample(picture, ow, oh, sw, sh, cx, cy, cw, ch, flip, dst);
    (*env)->ReleasePrimitiveArrayCritical(env, out, dst, 0);
    dst = NULL;
  }
done:
  jpeg_destroy_decompress(&c);
  free(picture);
  free(line);
  free(in);
  return why;
}
