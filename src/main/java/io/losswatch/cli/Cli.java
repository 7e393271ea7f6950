package io.losswatch.cli;

import io.losswatch.core.config.SpecException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How every losswatch command reads its command line (picocli): {@code --name value} and {@code --name=value}
 * alike, the last of a repeated option counts, an argument starting with {@code @} is itself (never a file of
 * arguments), {@code -h} and {@code --help} print the command's usage and exit 0, and anything wrong is one line on
 * stderr naming the option, {@code <command>: <option>: <what is wrong>; <hint>}, with exit status 2. A command
 * that fails as it runs says so in one line too, with status 1: never a stack trace on a terminal.
 */
public final class Cli {
  /** Exit status of a command line that is wrong. */
  public static final int USAGE = 2;

  private Cli() {
  }

  /** {@code -h}, {@code --help}: every command mixes it in. */
  public static final class Help {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this command's usage and exit")
    boolean help;
  }

  /** A command whose refusals end with a hint of its own rather than "try ... --help". */
  public interface Hinted {
    String hint();
  }

  /** A command line for {@code command}, writing to {@code out} and {@code err}. */
  public static CommandLine commandLine(Object command, PrintWriter out, PrintWriter err) {
    return new CommandLine(command)
        .setExpandAtFiles(false)
        .setOverwrittenOptionsAllowed(true)
        .setUsageHelpWidth(110)
        .setOut(out)
        .setErr(err)
        .setExecutionStrategy(Cli::execute)
        .setParameterExceptionHandler((e, args) -> {
          err.println(refusal(e));
          err.flush();
          return USAGE;
        })
        .setExecutionExceptionHandler((e, cl, parsed) -> {
          err.println(cl.getCommandName() + ": failed: " + e);
          err.flush();
          return CommandLine.ExitCode.SOFTWARE;
        });
  }

  /**
   * Runs the command named last, as picocli does, but refuses options given to a command that is not the one run:
   * {@code losswatch --port 0 trace ...} would otherwise drop serve's {@code --port} unsaid.
   */
  private static int execute(ParseResult parsed) {
    for (ParseResult p = parsed; p.hasSubcommand(); p = p.subcommand()) {
      for (OptionSpec o : p.matchedOptions()) {
        if (o.usageHelp()) continue;
        CommandSpec spec = p.commandSpec();
        PrintWriter err = spec.commandLine().getErr();
        err.println(spec.name() + ": " + o.longestName() + ": not an option of " + p.subcommand().commandSpec().name()
            + "; try " + path(spec) + "--help");
        err.flush();
        return USAGE;
      }
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** UTF-8 on a stream, flushed at every line (as System.out is). */
  public static PrintWriter writer(OutputStream stream) {
    return new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), true);
  }

  /**
   * Parses {@code args} into {@code command}'s fields without running it; what picocli refuses is a
   * {@link SpecException} naming the option.
   */
  static void parse(Object command, String[] args) {
    try {
      commandLine(command, writer(OutputStream.nullOutputStream()), writer(OutputStream.nullOutputStream()))
          .parseArgs(args);
    } catch (ParameterException e) {
      throw problem(e);
    }
  }

  /** The line a refused command line gets: {@code trace: --steps: unknown option; try trace --help}. */
  static String refusal(ParameterException e) {
    CommandSpec spec = e.getCommandLine().getCommandSpec();
    String hint = spec.userObject() instanceof Hinted h ? h.hint() : "try " + path(spec) + "--help";
    return spec.name() + ": " + problem(e).getMessage() + "; " + hint;
  }

  /** {@code trace } for a subcommand, nothing for the command a jar runs. */
  private static String path(CommandSpec spec) {
    return spec.parent() == null ? "" : path(spec.parent()) + spec.name() + " ";
  }

  /** What picocli found wrong, as the option and what is wrong with it. */
  private static SpecException problem(ParameterException e) {
    if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String arg = u.getUnmatched().get(0);
      int eq = arg.indexOf('=');
      if (arg.startsWith("-")) return new SpecException(eq > 0 ? arg.substring(0, eq) : arg, "unknown option");
      boolean commands = !e.getCommandLine().getSubcommands().isEmpty();
      return new SpecException(arg, commands ? "unknown command" : "unexpected argument");
    }
    if (e instanceof MissingParameterException m && !m.getMissing().isEmpty()) {
      ArgSpec a = m.getMissing().get(0);
      String name = a instanceof OptionSpec o ? o.longestName() : a.paramLabel();
      boolean absent = e.getMessage().startsWith("Missing required option");
      return new SpecException(name, absent ? "is required" : "needs a value");
    }
    return new SpecException("", e.getMessage());
  }

  /** The commands' standard refusal, for checks a command makes itself once picocli has parsed. */
  public static int refuse(CommandSpec spec, String message) {
    PrintWriter err = spec.commandLine().getErr();
    err.println(spec.name() + ": " + message);
    err.flush();
    return USAGE;
  }

  /** The options a command was given, by their names, in the order given. */
  static List<String> given(CommandSpec spec) {
    return spec.commandLine().getParseResult().matchedOptions().stream().map(OptionSpec::longestName).toList();
  }
}
