package io.losswatch.web;

import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.threadchecker.BlockedThreadEvent;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Watches a server's event loops. Vert.x reports every task that held a loop longer than its limit; each report is
 * printed, and a test fails only for a block the server's own code caused that matters to a user: one in which
 * the loop's thread itself computed for at least {@link #CPU_LIMIT_MS} of CPU time. A block that is long on the
 * wall clock but short in CPU time is the machine's doing (other processes had the cores, or a GC paused every
 * thread), not the code's, and does not fail a test run beside other work.
 *
 * <p>How: every {@link #SAMPLE_MS} a sampler notes each loop thread's CPU time; a report of a block of duration d
 * at time t is charged the CPU the thread used since the last sample at or before t − d.
 */
final class LoopWatch implements AutoCloseable {
  static final long CPU_LIMIT_MS = 500;
  static final long SAMPLE_MS = 10;
  private static final int KEPT = 2000;   // 20 s of samples per loop

  private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
  private final Map<Thread, long[][]> samples = new ConcurrentHashMap<>();   // thread → ring of {nanoTime, cpuNanos}
  private final Map<Thread, Integer> next = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "loop-watch");
    t.setDaemon(true);
    return t;
  });
  /** Blocks the code caused (the test fails), with where the loop was. */
  final List<String> caused = new CopyOnWriteArrayList<>();

  LoopWatch(Vertx vertx) {
    VertxInternal v = (VertxInternal) vertx;
    for (EventExecutor e : v.nettyEventLoopGroup()) e.execute(() -> samples.put(Thread.currentThread(), new long[KEPT][]));
    sampler.scheduleAtFixedRate(this::sample, 0, SAMPLE_MS, TimeUnit.MILLISECONDS);
    v.blockedThreadChecker().setThreadBlockedHandler(this::blocked);
  }

  private void sample() {
    long now = System.nanoTime();
    for (Map.Entry<Thread, long[][]> e : samples.entrySet()) {
      long cpu = mx.getThreadCpuTime(e.getKey().getId());
      if (cpu < 0) continue;   // the thread ended
      int i = next.merge(e.getKey(), 1, Integer::sum) % KEPT;
      e.getValue()[i] = new long[] {now, cpu};
    }
  }

  private void blocked(BlockedThreadEvent event) {
    Thread t = event.thread();
    long now = System.nanoTime();
    long cpuNow = mx.getThreadCpuTime(t.getId());
    long since = now - event.duration();
    long cpuThen = 0;   // no sample that old: charge all the CPU the thread ever used (an upper bound)
    long[][] ring = samples.get(t);
    if (ring != null) {
      long latest = Long.MIN_VALUE;
      for (long[] s : ring) {
        if (s != null && s[0] <= since && s[0] > latest) {
          latest = s[0];
          cpuThen = s[1];
        }
      }
    }
    long cpuMs = (cpuNow - cpuThen) / 1_000_000;
    long wallMs = event.duration() / 1_000_000;
    String what = t.getName() + " blocked for " + wallMs + " ms (" + cpuMs + " ms of it computing)";
    System.out.println("LoopWatch: " + what);
    if (ring != null && cpuMs >= CPU_LIMIT_MS) {
      StringBuilder where = new StringBuilder(what);
      for (StackTraceElement e : t.getStackTrace()) where.append("\n    at ").append(e);
      caused.add(where.toString());
    }
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
