package io.losswatch.bench;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What measuring the curvature costs a built-in run: a whole run of {@link #STEPS} steps per invocation, with
 * {@code curvature_every} 0 (never) and at the default; the difference over the number of measurements, against the
 * step time, is one measurement's cost in steps (BENCHMARKS.md, "Curvature").
 * <pre>
 *   mvn -B -Pbench verify -Dbench.args="CurvatureBench -f 1 -wi 3 -i 5"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CurvatureBench {
  static final int STEPS = 1000;

  @Param({
      "'quadratic','optimizer':{'type':'sgd','lr':0.1}",
      "'ellipse','optimizer':{'type':'adam','lr':0.1}",
      "'rosenbrock','optimizer':{'type':'sgd','lr':0.001,'momentum':0.9}",
      "'linreg','optimizer':{'type':'sgd','lr':0.01}",
      "'logreg','optimizer':{'type':'adam','lr':0.01}",
      "'softmax','optimizer':{'type':'sgd','lr':0.1}",
      "{'type':'mlp'},'optimizer':{'type':'sgd','lr':0.1}",
      "{'type':'mlp','batch_size':64},'optimizer':{'type':'adam','lr':0.001}"})
  public String problem;

  /** 0: never measured. */
  @Param({"0", "100"})
  public int every;

  private RunSpec spec;

  @Setup
  public void setup() {
    spec = RunSpec.parse(("{'problem':" + problem + ",'steps':" + STEPS + ",'curvature_every':" + every + "}")
        .replace('\'', '"'));
  }

  /** The whole run; returns the last loss so the work cannot be elided. */
  @Benchmark
  public double run() {
    Trainer trainer = new Trainer(spec);
    for (int t = 0; t < STEPS; t++) trainer.step();
    return trainer.loss();
  }
}
