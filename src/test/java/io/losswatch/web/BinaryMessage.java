package io.losswatch.web;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A binary stream message read as docs/websocket.md describes it, written independently of the server's
 * {@link BinaryWire}: a test reading with this reads what a client following the docs would.
 */
record BinaryMessage(int version, int type, int flags, long t, List<Block> blocks) {
  record Block(String run, int cycle, long firstStep, boolean stepColumn, long[] step, double[] loss, double[] lr,
      double[] gradNorm, long[] t, Map<String, double[]> metrics) {
  }

  static BinaryMessage read(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int version = in.get() & 0xff;
    int type = in.get() & 0xff;
    int flags = in.getShort() & 0xffff;
    int count = in.getInt();
    long t = in.getLong();
    List<Block> blocks = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      int start = in.position();
      if (start % 8 != 0) throw new AssertionError("a block starts at a multiple of 8: " + start);
      int size = in.getInt();
      int n = in.getInt();
      long first = in.getLong();
      int cycle = in.getInt();
      int columns = in.getShort() & 0xffff;
      int m = in.getShort() & 0xffff;
      int names = in.position();
      String run = str(in);
      List<String> metricNames = new ArrayList<>();
      for (int i = 0; i < m; i++) metricNames.add(str(in));
      in.position(names + ((in.position() - names + 7) & ~7));
      long[] step = new long[n];
      boolean stepColumn = (columns & 1) != 0;
      if (stepColumn) {
        for (int i = 0; i < n; i++) step[i] = in.getLong();
      } else {
        for (int i = 0; i < n; i++) step[i] = first + i;
      }
      double[] loss = (columns & 2) != 0 ? doubles(in, n) : null;
      double[] lr = (columns & 4) != 0 ? doubles(in, n) : null;
      double[] grad = (columns & 8) != 0 ? doubles(in, n) : null;
      long[] time = null;
      if ((columns & 16) != 0) {
        time = new long[n];
        for (int i = 0; i < n; i++) time[i] = in.getLong();
      }
      Map<String, double[]> metrics = new LinkedHashMap<>();
      for (String name : metricNames) metrics.put(name, doubles(in, n));
      // the curvature's columns come last (NaN where a step was not measured): read as any reader that knows them
      if ((columns & 32) != 0) metrics.put("sharpness", doubles(in, n));
      if ((columns & 64) != 0) metrics.put("stability", doubles(in, n));
      if (in.position() != start + size) throw new AssertionError("block of " + size + " bytes read to " + (in.position() - start));
      blocks.add(new Block(run, cycle, first, stepColumn, step, loss, lr, grad, time, metrics));
    }
    if (in.hasRemaining()) throw new AssertionError(in.remaining() + " bytes after the last block");
    return new BinaryMessage(version, type, flags, t, blocks);
  }

  private static String str(ByteBuffer in) {
    byte[] b = new byte[in.getShort() & 0xffff];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static double[] doubles(ByteBuffer in, int n) {
    double[] d = new double[n];
    for (int i = 0; i < n; i++) d[i] = in.getDouble();
    return d;
  }
}
