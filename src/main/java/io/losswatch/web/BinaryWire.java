package io.losswatch.web;

import io.losswatch.event.StepBatch;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The steps a {@code "format":"binary"} subscriber gets, as binary WebSocket messages: the columns as they are in
 * memory, little-endian, with no number formatted (formatting doubles as text is what the JSON stream costs). The
 * layout is documented in docs/websocket.md ("Binary format"); the page (ws-binary.mjs) and the Python client
 * ({@code losswatch.follow}) read it.
 *
 * <pre>
 * message:   u8 version (1) · u8 type (1 steps, 2 frame) · u16 flags (1 overview, 2 downsampled)
 *            · u32 blocks · i64 t (a frame's server epoch ms, else 0) · the blocks
 * block:     u32 bytes (this block's, a multiple of 8) · u32 n · i64 first step · i32 cycle
 *            · u16 columns (1 step, 2 loss, 4 lr, 8 grad_norm, 16 t, 32 sharpness, 64 stability) · u16 metrics
 *            · the run id and each metric's name, each u16 length + UTF-8, zero-padded to a multiple of 8
 *            · the columns present, n × 8 bytes each: step i64 · loss, lr, grad_norm f64 · t i64 · each metric f64
 *              · sharpness, stability f64 (NaN where not measured; last, so a reader that knows them not skips them)
 * </pre>
 *
 * The step column is left out when the steps are {@code first, first+1, …} (a built-in run, a script logging every
 * step): 32 bytes a step, 40 with it, as the cluster codec. Every block starts at a multiple of 8, so a reader may
 * view a column in place.
 */
final class BinaryWire {
  static final int VERSION = 1;
  static final int STEPS = 1;
  static final int FRAME = 2;
  static final int OVERVIEW = 1;
  static final int DOWNSAMPLED = 2;
  static final int STEP = 1;
  static final int LOSS = 2;
  static final int LR = 4;
  static final int GRAD_NORM = 8;
  static final int T = 16;
  static final int SHARPNESS = 32;
  static final int STABILITY = 64;
  static final int HEADER = 16;
  /** Steps per message at most, and bytes: under the 256 KiB a Vert.x client takes by default. */
  static final int MAX_STEPS_PER_MESSAGE = 4096;
  static final int MAX_MESSAGE_BYTES = 192 * 1024;

  private BinaryWire() {
  }

  /** Steps per message for {@code b}: as many as fit {@link #MAX_MESSAGE_BYTES}, at most {@link #MAX_STEPS_PER_MESSAGE}. */
  static int stepsPerMessage(StepBatch b) {
    return Math.max(1, Math.min(MAX_STEPS_PER_MESSAGE, (MAX_MESSAGE_BYTES - 1024) / (56 + 8 * b.metrics().size())));
  }

  /** The steps of {@code b} at indices [from, to) as one all-mode message. */
  static Buffer steps(StepBatch b, int from, int to) {
    return message(STEPS, 0, 0, List.of(new Block(b, from, to)));
  }

  /** A run's history as a live subscriber gets it first, marked as such. */
  static Buffer overview(StepBatch b, boolean downsampled) {
    return message(STEPS, OVERVIEW | (downsampled ? DOWNSAMPLED : 0), 0, List.of(new Block(b, 0, b.size())));
  }

  /** A live frame: each due run's bucket as a block, {@code t} the server's clock. */
  static Buffer frame(long t, List<StepBatch> buckets) {
    return message(FRAME, 0, t, buckets.stream().map(b -> new Block(b, 0, b.size())).toList());
  }

  /** One run's steps [from, to) with the names it carries, laid out. */
  private record Block(StepBatch b, int from, int to, byte[][] names, boolean stepColumn, int bytes) {
    Block(StepBatch b, int from, int to) {
      this(b, from, to, names(b), !consecutive(b.step(), from, to), 0);
    }

    Block {
      int nameBytes = 0;
      for (byte[] n : names) nameBytes += 2 + n.length;
      int columns = (stepColumn ? 5 : 4) + b.metrics().size() + (b.sharpness() != null ? 2 : 0);
      bytes = 24 + pad(nameBytes) + columns * 8 * (to - from);
    }

    private static byte[][] names(StepBatch b) {
      byte[][] n = new byte[1 + b.metrics().size()][];
      n[0] = b.run().getBytes(StandardCharsets.UTF_8);
      int i = 1;
      for (String name : b.metrics().keySet()) n[i++] = name.getBytes(StandardCharsets.UTF_8);
      return n;
    }
  }

  private static boolean consecutive(long[] step, int from, int to) {
    return to == from || step[to - 1] - step[from] == to - from - 1;   // steps only grow: the ends say it all
  }

  private static int pad(int n) {
    return (n + 7) & ~7;
  }

  private static Buffer message(int type, int flags, long t, List<Block> blocks) {
    int size = HEADER;
    for (Block k : blocks) size += k.bytes;
    ByteBuffer o = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    o.put((byte) VERSION).put((byte) type).putShort((short) flags).putInt(blocks.size()).putLong(t);
    for (Block k : blocks) block(o, k);
    return Buffer.buffer(o.array());
  }

  private static void block(ByteBuffer o, Block k) {
    StepBatch b = k.b;
    int n = k.to - k.from;
    boolean curvature = b.sharpness() != null;
    int columns = LOSS | LR | GRAD_NORM | T | (k.stepColumn ? STEP : 0) | (curvature ? SHARPNESS | STABILITY : 0);
    o.putInt(k.bytes).putInt(n).putLong(n == 0 ? 0 : b.step()[k.from]).putInt(b.cycle())
        .putShort((short) columns).putShort((short) b.metrics().size());
    int start = o.position();
    for (byte[] name : k.names) o.putShort((short) name.length).put(name);
    o.position(start + pad(o.position() - start));
    if (k.stepColumn) longs(o, b.step(), k.from, n);
    doubles(o, b.loss(), k.from, n);
    doubles(o, b.lr(), k.from, n);
    doubles(o, b.gradNorm(), k.from, n);
    longs(o, b.t(), k.from, n);
    for (Map.Entry<String, double[]> e : b.metrics().entrySet()) doubles(o, e.getValue(), k.from, n);
    if (curvature) {
      doubles(o, b.sharpness(), k.from, n);
      doubles(o, b.stability(), k.from, n);
    }
  }

  private static void doubles(ByteBuffer o, double[] v, int from, int n) {
    o.asDoubleBuffer().put(v, from, n);   // a view: bulk, in the buffer's order
    o.position(o.position() + 8 * n);
  }

  private static void longs(ByteBuffer o, long[] v, int from, int n) {
    o.asLongBuffer().put(v, from, n);
    o.position(o.position() + 8 * n);
  }
}
