using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Cli.Cert;
using Identity.Kubernetes.Cluster;
using Identity.Pki;
using Identity.Pki.Certificates;
using Identity.Pki.Files;
using Identity.Pki.Keys;
using Identity.Pki.Time;
using Identity.Pki.Verification;

namespace Identity.Cli.IssuerRotation;

/// <summary><c>identity issuer</c>: per-cluster issuer maintenance.</summary>
internal static class IssuerCommand
{
    /// <summary>Linkerd's guides mint issuers for one year; rotation should keep that rhythm, not step's 10 years.</summary>
    internal const string DefaultValidity = "8760h";

    public static Command Create(TimeProvider? timeProvider = null)
    {
        var command = new Command("issuer", "Manage the per-cluster issuer (Secret linkerd-identity-issuer).");
        command.Subcommands.Add(CreateRotate(timeProvider ?? TimeProvider.System));
        return command;
    }

    private static Command CreateRotate(TimeProvider time)
    {
        var ca = new Option<string>("--ca") { Description = "The trust anchor (root) certificate that signs the new issuer.", Required = true };
        var caKey = new Option<string>("--ca-key") { Description = "The trust anchor's private key.", Required = true };
        var caPasswordFile = new Option<string?>("--ca-password-file") { Description = "File holding the password of --ca-key." };
        var subject = new Option<string>("--subject")
        {
            Description = "Common name of the new issuer.",
            DefaultValueFactory = _ => "identity.linkerd.cluster.local",
        };
        var notBefore = new Option<string?>("--not-before") { Description = "RFC 3339 time or Go duration relative to now." };
        var notAfter = new Option<string?>("--not-after")
        {
            Description = $"RFC 3339 time or Go duration relative to now (default {DefaultValidity}).",
            DefaultValueFactory = _ => DefaultValidity,
        };
        var scheme = new Option<string>("--scheme")
        {
            Description = "linkerd.io/tls (crt.pem/key.pem) or kubernetes.io/tls (tls.crt/tls.key/ca.crt).",
            DefaultValueFactory = _ => LinkerdIdentityObjects.LinkerdScheme,
        };
        var ns = new Option<string>("--namespace", "-n")
        {
            Description = "Namespace of the Secret.",
            DefaultValueFactory = _ => LinkerdIdentityObjects.DefaultNamespace,
        };
        var anchors = new Option<string?>("--anchors") { Description = "Bundle for the kubernetes.io/tls Secret's ca.crt (default: --ca)." };
        var crtFile = new Option<string?>("--crt-file") { Description = "Also save the new issuer certificate here." };
        var keyFile = new Option<string?>("--key-file") { Description = "Also save the new issuer key here, unencrypted, mode 0600." };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite --crt-file/--key-file." };

        var command = new Command(
            "rotate",
            "Mint a new issuer (intermediate-ca, EC P-256) from the trust anchor and print the linkerd-identity-issuer Secret as YAML for `kubectl apply -f -`. Report on stderr.")
        {
            ca, caKey, caPasswordFile, subject, notBefore, notAfter, scheme, ns, anchors, crtFile, keyFile, force,
        };

        command.SetAction(parseResult => CertCli.Run(parseResult, (stdout, stderr) =>
        {
            var schemeValue = parseResult.GetValue(scheme)!;
            if (schemeValue is not (LinkerdIdentityObjects.LinkerdScheme or LinkerdIdentityObjects.KubernetesScheme))
            {
                throw CertCli.Usage($"invalid value '{schemeValue}' for flag '--scheme'; options are {LinkerdIdentityObjects.LinkerdScheme} or {LinkerdIdentityObjects.KubernetesScheme}");
            }

            var crtPath = parseResult.GetValue(crtFile);
            var keyPath = parseResult.GetValue(keyFile);
            if ((crtPath is null) != (keyPath is null))
            {
                throw CertCli.Usage("flags '--crt-file' and '--key-file' go together");
            }

            var caPath = parseResult.GetValue(ca)!;
            var caKeyPath = parseResult.GetValue(caKey)!;
            var (nb, na) = StepValidity.Resolve(parseResult.GetValue(notBefore), parseResult.GetValue(notAfter), StepProfile.IntermediateCa, time);

            using var root = CertificatePem.ReadSingle(InputFiles.Read(caPath), caPath);
            using var rootKey = KeyOptions.LoadKey(caKeyPath, parseResult.GetValue(caPasswordFile), "--ca-password-file");
            IssuerValidation.EnsureCanIssue(root, rootKey, StepProfile.IntermediateCa, time.GetUtcNow(), caPath, caKeyPath);

            var anchorsPath = parseResult.GetValue(anchors) ?? caPath;
            var anchorBundle = TrustBundle.Load(anchorsPath);

            // Linkerd's issuer must be ECDSA P-256 (linkerd check and the proxies' signature schemes).
            using var key = PrivateKey.Generate(KeySpec.Default);
            var template = new CertificateTemplate(
                StepProfile.IntermediateCa, parseResult.GetValue(subject)!, [], key.ExportSubjectPublicKeyInfo(), nb, na);
            using var issuer = StepCertificateFactory.Create(template, rootKey, root);

            // The server refuses an issuer that does not chain to its anchors; refuse to print one here too.
            var verification = ChainVerifier.Verify(issuer, null, anchorBundle, nb > time.GetUtcNow() ? nb : time.GetUtcNow());
            if (!verification.IsValid)
            {
                throw new PkiException($"the new issuer does not verify against {anchorsPath}: {verification.Error}");
            }

            var crtPem = CertificatePem.Write(issuer);
            var keyPem = PrivateKeyPem.Write(key, password: null);
            if (crtPath is not null)
            {
                OutputFiles.WriteKeyThenCertificate(keyPath, keyPem, crtPath, crtPem, parseResult.GetValue(force));
            }

            stdout.Write(SecretYaml(schemeValue, parseResult.GetValue(ns)!, crtPem, keyPem, anchorBundle.ToPem()));

            stderr.WriteLine($"New issuer: CN={parseResult.GetValue(subject)} signed by {root.Subject}");
            stderr.WriteLine($"  serial:     {issuer.SerialNumber}");
            stderr.WriteLine($"  valid:      {GoTime.Rfc3339(issuer.NotBefore.ToUniversalTime())} to {GoTime.Rfc3339(issuer.NotAfter.ToUniversalTime())}");
            stderr.WriteLine($"  sha256:     {Convert.ToHexStringLower(SHA256.HashData(issuer.RawData))}");
            stderr.WriteLine($"Apply with `kubectl apply -f -`; the server reloads it and reports IssuerUpdated.");
            if (crtPath is not null)
            {
                stderr.WriteLine($"Your certificate has been saved in {crtPath}.");
                stderr.WriteLine($"Your private key has been saved in {keyPath}.");
            }

            return 0;
        }));

        return command;
    }

    /// <summary>The Secret as Linkerd's chart (linkerd.io/tls) or cert-manager (kubernetes.io/tls) shapes it.</summary>
    internal static string SecretYaml(string scheme, string @namespace, string crtPem, string keyPem, string anchorsPem)
    {
        var (crtName, keyName) = LinkerdIdentityObjects.FileNames(scheme);
        var yaml = new StringBuilder()
            .Append("apiVersion: v1\n")
            .Append("kind: Secret\n")
            .Append("metadata:\n")
            .Append("  name: ").Append(LinkerdIdentityObjects.IssuerSecretName).Append('\n')
            .Append("  namespace: ").Append(@namespace).Append('\n')
            .Append("type: ").Append(scheme == LinkerdIdentityObjects.KubernetesScheme ? "kubernetes.io/tls" : "Opaque").Append('\n')
            .Append("data:\n");
        if (scheme == LinkerdIdentityObjects.KubernetesScheme)
        {
            yaml.Append("  ca.crt: ").Append(Base64(anchorsPem)).Append('\n');
        }

        yaml.Append("  ").Append(crtName).Append(": ").Append(Base64(crtPem)).Append('\n')
            .Append("  ").Append(keyName).Append(": ").Append(Base64(keyPem)).Append('\n');
        return yaml.ToString();
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
