package io.losswatch.bench;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.core.optim.Optimizer;
import io.losswatch.core.optim.Optimizers;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@code Optimizer.step} on 1,000 parameters, per optimizer: the cost of torch's {@code optimizer.step()}
 * on a single 1,000-element float64 parameter (src/bench/python/torch_bench.py times the same).
 *
 * <p>Run with {@code -prof gc} to see {@code gc.alloc.rate.norm}, the bytes allocated per step: the target is 0.
 * <pre>
 *   mvn -B -Pbench verify -Dbench.args="OptimizerStepBench -f 1 -wi 3 -i 5 -prof gc"
 * </pre>
 * The step updates the parameters in place, so the state evolves across invocations exactly as in a long
 * training run with a fixed gradient; nothing is reset between invocations.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class OptimizerStepBench {
  static final int DIMENSION = 1000;
  static final long SEED = 42;

  /** The optimizers of a RunSpec, each with the hyperparameters torch_bench.py uses. */
  @Param({
      "{\"type\":\"sgd\",\"lr\":1e-3,\"momentum\":0.9}",
      "{\"type\":\"adam\",\"lr\":1e-3}",
      "{\"type\":\"adamw\",\"lr\":1e-3}",
      "{\"type\":\"rmsprop\",\"lr\":1e-3}",
      "{\"type\":\"adagrad\",\"lr\":1e-3}"})
  public String optimizer;

  private Optimizer opt;
  private double[] params;
  private double[] grad;

  @Setup(Level.Trial)
  public void setup() {
    opt = Optimizers.read(Options.of("optimizer", Json.parse(optimizer))).create(DIMENSION);
    SplittableRandom random = new SplittableRandom(SEED);
    params = new double[DIMENSION];
    grad = new double[DIMENSION];
    for (int i = 0; i < DIMENSION; i++) {
      params[i] = random.nextDouble(-1, 1);
      grad[i] = random.nextDouble(-1, 1);
    }
  }

  @Benchmark
  public double[] step() {
    opt.step(params, grad);
    return params;
  }
}
