package io.losswatch.web;

import io.losswatch.event.Append;

/**
 * How fast an append's body is read, on one core: 2,000-step bodies as a script sends them (step, loss, lr,
 * grad_norm, t). A benchmark, not a test (run it by hand; the ingest target is ≥ 1 M steps/s end to end):
 * {@code java -cp target/losswatch.jar:target/test-classes io.losswatch.web.AppendReaderBench [seconds]}.
 */
public final class AppendReaderBench {
  /** CPU time rather than wall time: on a shared machine the other processes' share is not this reader's. */
  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

  private AppendReaderBench() {
  }

  public static void main(String[] args) {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
    int n = 2000;
    String body = body(n);
    long sink = 0;
    for (int i = 0; i < 2000; i++) sink += AppendReader.read("r", body, 1).steps().size();   // warm up
    for (int round = 0; round < 3; round++) {
      long appends = 0;
      long cpu = THREADS.getCurrentThreadCpuTime();
      long start = System.nanoTime();
      long end = start + (long) (seconds / 3 * 1e9);
      while (System.nanoTime() < end) {
        Append a = AppendReader.read("r", body, 1);
        sink += a.steps().size();
        appends++;
      }
      double s = (System.nanoTime() - start) / 1e9;
      double c = (THREADS.getCurrentThreadCpuTime() - cpu) / 1e9;
      System.out.printf("append of %d steps (%d bytes): %.1f µs of CPU each, %.2f M steps per CPU second (wall: %.2f M steps/s)%n",
          n, body.length(), c / appends * 1e6, appends * n / c / 1e6, appends * n / s / 1e6);
    }
    if (sink == 42) System.out.println();
  }

  /** Columns as the Python client writes them: repr() of each double. */
  static String body(int n) {
    StringBuilder b = new StringBuilder(n * 80).append("{\"step\":[");
    for (int i = 0; i < n; i++) (i > 0 ? b.append(',') : b).append(1000 + i);
    b.append("],\"loss\":[");
    for (int i = 0; i < n; i++) (i > 0 ? b.append(',') : b).append(2.302585092994046 / (1 + i * 1e-3));
    b.append("],\"lr\":[");
    for (int i = 0; i < n; i++) (i > 0 ? b.append(',') : b).append(0.001 * (1 - i / (double) n));
    b.append("],\"grad_norm\":[");
    for (int i = 0; i < n; i++) (i > 0 ? b.append(',') : b).append(0.6931471805599453 / (1 + i * 1e-3));
    b.append("],\"t\":[");
    for (int i = 0; i < n; i++) (i > 0 ? b.append(',') : b).append(1_765_000_000_000L + i * 37L);
    return b.append("]}").toString();
  }
}
