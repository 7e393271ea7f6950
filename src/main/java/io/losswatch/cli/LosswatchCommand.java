package io.losswatch.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code java -jar losswatch.jar [command] [options]}: the commands, with {@code serve} the default, so that its
 * options may come first ({@code losswatch --port 0} is {@code losswatch serve --port 0}).
 */
@Command(name = "losswatch", sortOptions = false, showDefaultValues = true,
    synopsisHeading = "",
    customSynopsis = {
        "usage: java -jar losswatch.jar [serve] [options]          train, stream and serve (the default command)",
        "       java -jar losswatch.jar trace --spec <JSON or file>  run a RunSpec headless; print it as CSV",
        "       java -jar losswatch.jar help [command]             a command's usage (or <command> --help)"},
    descriptionHeading = "%n",
    description = {
        "losswatch: a streaming live-training monitor (docs/operations.md).",
        "The benchmark is a jar of its own beside this one: java -Xmx2g -jar target/losswatch-bench.jar --help"},
    optionListHeading = "%nserve's options:%n",
    commandListHeading = "%ncommands:%n",
    subcommands = {ServeCommand.class, TraceCommand.class, LosswatchCommand.Bench.class, CommandLine.HelpCommand.class})
public final class LosswatchCommand implements Callable<Integer> {
  @Mixin
  ServeOptions options;
  @Mixin
  Cli.Help help;
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return ServeCommand.start(options, spec);
  }

  /** Runs the command line; serve answers 0 and keeps running on the server's threads. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    int status = Cli.commandLine(new LosswatchCommand(), out, err).execute(args);
    out.flush();
    err.flush();
    return status;
  }

  /** {@code bench} was once a command of this jar: it says where the benchmark is now. */
  @Command(name = "bench", description = "in a jar of its own: java -Xmx2g -jar target/losswatch-bench.jar")
  static final class Bench implements Callable<Integer> {
    @Mixin
    Cli.Help help;
    @Unmatched
    List<String> ignored;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      return Cli.refuse(spec, "not in this jar: the benchmark is java -Xmx2g -jar target/losswatch-bench.jar"
          + " [--quick] [--only=SECTION], built beside losswatch.jar by mvn package (BENCHMARKS.md)");
    }
  }
}
