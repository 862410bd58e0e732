using System.CommandLine;
using Identity.Pki.Certificates;
using Identity.Pki.Files;

namespace Identity.Cli.Cert;

/// <summary><c>identity cert bundle &lt;crt&gt; &lt;ca&gt; &lt;bundle-file&gt;</c>: step's <c>certificate bundle</c>.</summary>
internal static class BundleCommand
{
    public static Command Create()
    {
        var crtFile = new Argument<string>("crt-file") { Description = "The certificate (its first block is used)." };
        var caFile = new Argument<string>("ca") { Description = "The issuer certificate (its first block is used)." };
        var bundleFile = new Argument<string>("bundle-file") { Description = "Where to write the bundle." };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite an existing bundle file." };
        var command = new Command("bundle", "Bundle a certificate with its issuer into one PEM file.");
        command.Arguments.Add(crtFile);
        command.Arguments.Add(caFile);
        command.Arguments.Add(bundleFile);
        command.Options.Add(force);
        command.SetAction(p => CertCli.Run(p, (_, stderr) =>
        {
            var crt = p.GetValue(crtFile)!;
            var ca = p.GetValue(caFile)!;
            var output = p.GetValue(bundleFile)!;
            var pem = CertificateBundle.Create(InputFiles.Read(crt), crt, InputFiles.Read(ca), ca);
            SecureFile.WriteText(output, pem, p.GetValue(force));
            stderr.WriteLine($"Your certificate has been saved in {output}.");
            return 0;
        }));
        return command;
    }
}
