using System.CommandLine;
using System.Text.RegularExpressions;
using Identity.Cli.Check;
using Identity.Kubernetes.Cluster;

namespace Identity.Cli.Anchors;

/// <summary><c>identity anchors</c>: trust-anchor maintenance for rotation.</summary>
internal static partial class AnchorsCommand
{
    public static Command Create(TimeProvider? timeProvider = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        var command = new Command("anchors", "Manage the trust anchors (ConfigMap linkerd-identity-trust-roots).");
        command.Subcommands.Add(CreateBundle(time));
        return command;
    }

    private static Command CreateBundle(TimeProvider time)
    {
        var files = new Argument<FileInfo[]>("files")
        {
            Description = "Root certificates (PEM), e.g. OLD.crt NEW.crt; a file may hold several.",
            Arity = ArgumentArity.OneOrMore,
        };
        var ns = new Option<string>("--namespace", "-n")
        {
            Description = "Namespace of the ConfigMap.",
            DefaultValueFactory = _ => LinkerdIdentityObjects.DefaultNamespace,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "yaml: the ConfigMap for `kubectl apply -f -`; pem: the bundle only.",
            DefaultValueFactory = _ => "yaml",
        };
        var dropExpired = new Option<bool>("--drop-expired") { Description = "Leave expired anchors out of the bundle." };

        var command = new Command(
            "bundle",
            "Merge root certificates into the linkerd-identity-trust-roots ConfigMap (key ca-bundle.crt), in input order, without duplicates. Report on stderr.");
        command.Arguments.Add(files);
        command.Options.Add(ns);
        command.Options.Add(output);
        command.Options.Add(dropExpired);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;

            // Validated here rather than by the parser: a parse error prints help on stdout, which is piped to kubectl.
            var @namespace = parseResult.GetValue(ns)!;
            if (@namespace.Length > 63 || !Dns1123Label().IsMatch(@namespace))
            {
                await stderr.WriteLineAsync($"error: --namespace '{@namespace}' is not a valid namespace name (DNS-1123 label)");
                return 1;
            }

            var format = parseResult.GetValue(output);
            if (format is not ("yaml" or "pem"))
            {
                await stderr.WriteLineAsync($"error: --output '{format}' is not supported; use yaml or pem");
                return 1;
            }

            var inputs = new List<(string, string)>();
            foreach (var file in parseResult.GetValue(files)!)
            {
                try
                {
                    inputs.Add((file.ToString(), await File.ReadAllTextAsync(file.FullName, cancellationToken)));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    await stderr.WriteLineAsync($"error: cannot read {file}: {ex.Message}");
                    return 1;
                }
            }

            var bundle = AnchorBundler.Build(inputs, time.GetUtcNow(), parseResult.GetValue(dropExpired));
            try
            {
                if (bundle.Errors.Count > 0)
                {
                    foreach (var error in bundle.Errors)
                    {
                        await stderr.WriteLineAsync($"error: {error}");
                    }

                    return 1;
                }

                foreach (var line in bundle.Report)
                {
                    await stderr.WriteLineAsync(line);
                }

                await stdout.WriteAsync(format == "pem"
                    ? AnchorBundler.ToPem(bundle.Anchors)
                    : AnchorBundler.ToConfigMapYaml(bundle.Anchors, @namespace));
                return 0;
            }
            finally
            {
                foreach (var anchor in bundle.Anchors)
                {
                    anchor.Dispose();
                }
            }
        });

        return command;
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();
}
