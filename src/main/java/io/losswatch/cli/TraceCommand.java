package io.losswatch.cli;

import io.losswatch.core.RunSpec;
import io.losswatch.core.TraceCsv;
import io.losswatch.core.Trainer;
import io.losswatch.core.config.SpecException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code losswatch trace --spec <inline JSON | path>}: runs a spec headless and prints
 * {@code step,loss,lr,grad_norm} as CSV, every double in shortest round-trip form ({@link Double#toString}).
 * An invalid spec prints one line to stderr, nothing to stdout, and exits with status 2.
 */
public final class TraceCommand {
  private TraceCommand() {
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    String specArg = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--spec") && i + 1 < args.length) specArg = args[++i];
      else if (args[i].startsWith("--spec=")) specArg = args[i].substring("--spec=".length());
      else {
        err.println("trace: unknown argument " + args[i] + " (usage: trace --spec <JSON or file>)");
        return 2;
      }
    }
    if (specArg == null) {
      err.println("trace: --spec is required (inline JSON or a path to a JSON file)");
      return 2;
    }
    RunSpec spec;
    try {
      spec = RunSpec.parse(readSpec(specArg));
    } catch (SpecException e) {
      err.println("trace: invalid spec: " + e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("trace: cannot read spec file " + specArg + ": "
          + (e instanceof NoSuchFileException ? "no such file" : e.getMessage()));
      return 2;
    }
    try {
      Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
      write(spec, w);
      w.flush();
    } catch (IOException e) {
      err.println("trace: cannot write: " + e.getMessage());
      return 1;
    }
    return 0;
  }

  /** Writes the header and one row per step of the run. */
  public static void write(RunSpec spec, Writer w) throws IOException {
    Trainer trainer = new Trainer(spec);
    w.write(TraceCsv.HEADER);
    StringBuilder row = new StringBuilder(96);
    for (int t = 0; t < spec.steps(); t++) {
      trainer.step();
      row.setLength(0);
      w.append(TraceCsv.row(row, trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm()));
    }
  }

  /** Inline JSON starts with '{'; anything else is a path. */
  private static String readSpec(String arg) throws IOException {
    if (arg.stripLeading().startsWith("{")) return arg;
    return Files.readString(Path.of(arg), StandardCharsets.UTF_8);
  }
}
