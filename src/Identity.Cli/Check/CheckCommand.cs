using System.CommandLine;
using Identity.Kubernetes.Cluster;

namespace Identity.Cli.Check;

/// <summary>
/// <c>identity check</c>: the <c>linkerd-identity</c> checks of <c>linkerd check</c>, on local files or on the
/// Secret and ConfigMap a cluster mounts, plus key/CA checks and a multicluster comparison.
/// </summary>
internal static class CheckCommand
{
    public static Command Create(TimeProvider? timeProvider = null)
    {
        var time = timeProvider ?? TimeProvider.System;

        var anchors = new Option<FileInfo>("--anchors") { Description = "Trust-anchor bundle (PEM), e.g. ca-bundle.crt." };
        var issuerCert = new Option<FileInfo>("--issuer-cert") { Description = "Issuer certificate (PEM), issuer first then its chain." };
        var issuerKey = new Option<FileInfo>("--issuer-key") { Description = "Issuer private key (PEM: EC, RSA or PKCS#8)." };
        var issuerDir = new Option<DirectoryInfo>("--issuer-dir")
        {
            Description = "Directory laid out like the mounted issuer Secret (crt.pem/key.pem or tls.crt/tls.key by --scheme).",
        };
        var scheme = new Option<string>("--scheme")
        {
            Description = "Issuer scheme: linkerd.io/tls (crt.pem, key.pem) or kubernetes.io/tls (tls.crt, tls.key). " +
                          "Default: linkerd.io/tls for --issuer-dir, detected from the Secret on a cluster.",
        };
        scheme.AcceptOnlyFromAmong(LinkerdIdentityObjects.LinkerdScheme, LinkerdIdentityObjects.KubernetesScheme);
        var contexts = new Option<string[]>("--context")
        {
            Description = "Kubeconfig context to read Secret linkerd-identity-issuer and ConfigMap linkerd-identity-trust-roots from; repeat with --multicluster.",
            Arity = ArgumentArity.OneOrMore,
        };
        var kubeconfig = new Option<FileInfo>("--kubeconfig") { Description = "Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)." };
        var ns = new Option<string>("--namespace", "-n")
        {
            Description = "Control-plane namespace.",
            DefaultValueFactory = _ => LinkerdIdentityObjects.DefaultNamespace,
        };
        var multicluster = new Option<bool>("--multicluster") { Description = "Compare the identity of two or more --context clusters." };
        var warningDays = new Option<int>("--warning-days")
        {
            Description = "Warn when an anchor or the issuer expires within this many days.",
            DefaultValueFactory = _ => 60,
        };
        warningDays.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--warning-days must be zero or more");
            }
        });
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output format: table or json.",
            DefaultValueFactory = _ => "table",
        };
        output.AcceptOnlyFromAmong("table", "json");
        var strict = new Option<bool>("--strict") { Description = "Exit with 1 on warnings too." };

        var command = new Command("check", "Check the issuer certificate, key and trust anchors like `linkerd check` (linkerd-identity), on files or clusters.");
        foreach (var option in new Option[] { anchors, issuerCert, issuerKey, issuerDir, scheme, contexts, kubeconfig, ns, multicluster, warningDays, output, strict })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            var request = new CheckRequest(
                parseResult.GetValue(anchors)?.FullName,
                parseResult.GetValue(issuerCert)?.FullName,
                parseResult.GetValue(issuerKey)?.FullName,
                parseResult.GetValue(issuerDir)?.FullName,
                parseResult.GetValue(scheme),
                parseResult.GetValue(contexts) ?? [],
                parseResult.GetValue(kubeconfig)?.FullName,
                parseResult.GetValue(ns)!,
                parseResult.GetValue(multicluster),
                parseResult.GetValue(warningDays));

            if (request.Validate() is { } usageError)
            {
                await stderr.WriteLineAsync($"error: {usageError}");
                return 1;
            }

            var results = await CheckRunner.RunAsync(request, time.GetUtcNow(), cancellationToken);
            var isStrict = parseResult.GetValue(strict);
            if (parseResult.GetValue(output) == "json")
            {
                CheckReport.WriteJson(stdout, results);
            }
            else
            {
                CheckReport.WriteTable(stdout, results, isStrict);
            }

            return CheckReport.ExitCode(results, isStrict);
        });

        return command;
    }
}
