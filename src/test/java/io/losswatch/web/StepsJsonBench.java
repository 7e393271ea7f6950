package io.losswatch.web;

import io.losswatch.event.StepBatch;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * How fast a steps message is written (what every subscriber's frame and every steps answer costs), on one core:
 * 2,000 steps of loss, lr, grad_norm and one metric. A benchmark, not a test; by hand:
 * {@code java -cp target/losswatch.jar:target/test-classes io.losswatch.web.StepsJsonBench [seconds]}.
 */
public final class StepsJsonBench {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private StepsJsonBench() {
  }

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 9;
    int n = 2000;
    long[] step = new long[n];
    long[] t = new long[n];
    double[] loss = new double[n];
    double[] lr = new double[n];
    double[] grad = new double[n];
    double[] acc = new double[n];
    for (int i = 0; i < n; i++) {
      step[i] = 1000 + i;
      t[i] = 1_765_000_000_000L + 37L * i;
      loss[i] = 2.302585092994046 / (1 + i * 1e-3);
      lr[i] = 0.001 * (1 - i / (double) n);
      grad[i] = 0.6931471805599453 / (1 + i * 1e-3);
      acc[i] = i / (double) n;
    }
    StepBatch b = new StepBatch("r", 0, step, loss, lr, grad, t, Map.of("val.acc", acc));
    // by name: the writer was web/Wire before it was web/Json, so one bench times both
    Class<?> writer;
    try {
      writer = Class.forName("io.losswatch.web.Json");
    } catch (ClassNotFoundException e) {
      writer = Class.forName("io.losswatch.web.Wire");
    }
    Method steps = writer.getDeclaredMethod("steps", StepBatch.class, int.class, int.class, boolean.class);
    steps.setAccessible(true);
    long sink = 0;
    for (int i = 0; i < 500; i++) sink += ((String) steps.invoke(null, b, 0, n, true)).length();
    for (int round = 0; round < 3; round++) {
      long count = 0;
      long cpu = THREADS.getCurrentThreadCpuTime();
      long end = System.nanoTime() + (long) (seconds / 3 * 1e9);
      while (System.nanoTime() < end) {
        sink += ((String) steps.invoke(null, b, 0, n, true)).length();
        count++;
      }
      double c = (THREADS.getCurrentThreadCpuTime() - cpu) / 1e9;
      System.out.printf("%s.steps of %d steps: %.1f µs of CPU each, %.2f M steps per CPU second%n", writer.getSimpleName(), n,
          c / count * 1e6, count * n / c / 1e6);
    }
    if (sink == 42) System.out.println();
  }
}
