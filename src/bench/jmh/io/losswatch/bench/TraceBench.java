package io.losswatch.bench;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A whole 100,000-step Rosenbrock run with Adam lr 0.001, per invocation: through {@link Trainer} alone
 * (problem, optimizer and schedule steps, what a torch training loop does), and through
 * {@link TraceCommand#write} into a Writer that discards everything (the same plus CSV formatting).
 * src/bench/python/torch_bench.py times the same run in PyTorch.
 * <pre>
 *   mvn -B -Pbench verify -Dbench.args="TraceBench -f 1 -wi 3 -i 5"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TraceBench {
  static final String SPEC =
      "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.001},\"steps\":100000}";

  private RunSpec spec;

  @Setup
  public void setup() {
    spec = RunSpec.parse(SPEC);
  }

  /** The run through the Trainer; returns the final loss so the work cannot be elided. */
  @Benchmark
  public double trainer() {
    Trainer trainer = new Trainer(spec);
    for (int t = 0; t < spec.steps(); t++) trainer.step();
    return trainer.loss();
  }

  /** The run through TraceCommand.write, formatting every CSV row, into a Writer that drops the text. */
  @Benchmark
  public long traceCsv() throws IOException {
    CountingNullWriter w = new CountingNullWriter();
    TraceCommand.write(spec, w);
    return w.chars;
  }

  /** Discards what is written but counts it, so the formatting is observed. */
  static final class CountingNullWriter extends Writer {
    long chars;

    @Override public void write(char[] cbuf, int off, int len) {
      chars += len;
    }

    @Override public void write(int c) {
      chars++;
    }

    @Override public void write(String str, int off, int len) {
      chars += len;
    }

    @Override public Writer append(CharSequence csq) {
      chars += csq.length();
      return this;
    }

    @Override public void flush() {
    }

    @Override public void close() {
    }
  }
}
