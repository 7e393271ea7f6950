package io.losswatch.bench;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * What measuring the curvature costs each built-in problem, in this thread's CPU time (so that other processes on a
 * loaded machine count less than in {@link CurvatureBench}'s wall clock): whole runs with {@code curvature_every}
 * 0 and at the default, alternated, after a warm-up, the median of each; one measurement's cost in steps is the
 * difference over the measurements taken, against the time of a step.
 * <pre>
 *   mvn -B -Pbench verify -Dbench.args=-l    # builds target/bench
 *   java -cp target/bench/classes:target/bench/test-classes io.losswatch.bench.CurvatureCost [every]
 * </pre>
 */
public final class CurvatureCost {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  static final String[][] CASES = {
      {"'quadratic'", "{'type':'sgd','lr':0.1}", "20000"},
      {"'ellipse'", "{'type':'adam','lr':0.1}", "20000"},
      {"'rosenbrock'", "{'type':'sgd','lr':0.001,'momentum':0.9}", "20000"},
      {"'linreg'", "{'type':'sgd','lr':0.01}", "5000"},
      {"'logreg'", "{'type':'adam','lr':0.01}", "3000"},
      {"'softmax'", "{'type':'sgd','lr':0.1}", "5000"},
      {"{'type':'mlp'}", "{'type':'sgd','lr':0.1}", "2000"},
      {"{'type':'mlp','batch_size':64}", "{'type':'adam','lr':0.001}", "5000"},
      {"{'type':'mlp','hidden':4}", "{'type':'sgd','lr':0.4}", "3000"}};

  private CurvatureCost() {
  }

  public static void main(String[] args) {
    int every = args.length > 0 ? Integer.parseInt(args[0]) : RunSpec.DEFAULT_CURVATURE_EVERY;
    int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    for (String[] c : CASES) {
      String spec = ("{'problem':" + c[0] + ",'optimizer':" + c[1] + ",'steps':" + c[2] + ",'curvature_every':%d}")
          .replace('\'', '"');
      RunSpec plain = RunSpec.parse(spec.formatted(0));
      RunSpec measured = RunSpec.parse(spec.formatted(every));
      run(plain);
      run(measured);
      double[] a = new double[reps];
      double[] b = new double[reps];
      for (int r = 0; r < reps; r++) {
        a[r] = run(plain);
        b[r] = run(measured);
      }
      Arrays.sort(a);
      Arrays.sort(b);
      double base = a[reps / 2];
      double with = b[reps / 2];
      int steps = plain.steps();
      double perMeasurement = (with - base) / (steps / every) / (base / steps);
      System.out.printf("%-62s %7.1f ms %+6.1f%%  a measurement = %5.1f steps%n", c[0] + " " + c[1], base,
          100 * (with - base) / base, perMeasurement);
    }
  }

  /** One whole run's CPU time in ms. */
  private static double run(RunSpec spec) {
    long t0 = THREADS.getCurrentThreadCpuTime();
    Trainer t = new Trainer(spec);
    for (int i = 0; i < spec.steps(); i++) t.step();
    if (Double.isInfinite(t.loss() + t.sharpness())) System.out.print("");   // keep the work observed
    return (THREADS.getCurrentThreadCpuTime() - t0) / 1e6;
  }
}
