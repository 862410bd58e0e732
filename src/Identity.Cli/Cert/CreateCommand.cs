using System.CommandLine;
using Identity.Pki;
using Identity.Pki.Certificates;
using Identity.Pki.Files;
using Identity.Pki.Keys;
using Identity.Pki.Pem;
using Identity.Pki.Time;

namespace Identity.Cli.Cert;

/// <summary><c>identity cert create</c>: step's <c>certificate create</c> with its four profiles.</summary>
internal static class CreateCommand
{
    public static Command Create(TimeProvider time)
    {
        var subject = new Argument<string>("subject") { Description = "The subject (common name) of the certificate." };
        var crtFile = new Argument<string>("crt-file") { Description = "Where to write the certificate (or the CSR with --csr)." };
        var keyFile = new Argument<string?>("key-file")
        {
            Description = "Where to write the private key (optional with --key).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var o = new CreateOptions();
        var command = new Command("create", "Create a certificate or certificate signing request (step-compatible profiles).");
        command.Arguments.Add(subject);
        command.Arguments.Add(crtFile);
        command.Arguments.Add(keyFile);
        foreach (var option in o.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(parseResult => CertCli.Run(parseResult, (_, stderr) =>
            Execute(parseResult, o, parseResult.GetValue(subject)!, parseResult.GetValue(crtFile)!, parseResult.GetValue(keyFile), stderr, time)));
        return command;
    }

    private static int Execute(ParseResult p, CreateOptions o, string subject, string crtPath, string? keyPath, TextWriter stderr, TimeProvider time)
    {
        var profileName = p.GetValue(o.Profile);
        var profileGiven = p.GetResult(o.Profile) is { Implicit: false };
        var caPath = p.GetValue(o.Ca);
        var caKeyPath = p.GetValue(o.CaKey);
        var existingKeyPath = p.GetValue(o.Key);
        var noPassword = p.GetValue(o.NoPassword);
        var insecure = p.GetValue(o.Insecure);
        var passwordFile = p.GetValue(o.PasswordFile);
        var notBefore = p.GetValue(o.NotBefore);
        var notAfter = p.GetValue(o.NotAfter);
        var bundle = p.GetValue(o.Bundle);
        var csr = p.GetValue(o.Csr);
        var force = p.GetValue(o.Force);
        var sans = p.GetValue(o.San) ?? [];

        if (string.IsNullOrWhiteSpace(subject))
        {
            throw CertCli.Usage("the subject cannot be empty");
        }

        if (keyPath is null && existingKeyPath is null)
        {
            throw CertCli.Usage("missing positional argument <key-file> (it is optional only with --key)");
        }

        if (keyPath is not null && CertCli.FullPath(keyPath) == CertCli.FullPath(crtPath))
        {
            throw CertCli.Usage("positional arguments <crt-file> and <key-file> cannot be equal");
        }

        var profile = StepProfiles.Parse(profileName ?? "leaf")
            ?? throw CertCli.Usage($"invalid value '{profileName}' for flag '--profile'; options are leaf, intermediate-ca, root-ca, or self-signed");

        if (csr)
        {
            foreach (var (given, flag) in new[]
            {
                (profileGiven && profile != StepProfile.Leaf, "--profile " + profileName),
                (caPath is not null, "--ca"), (caKeyPath is not null, "--ca-key"),
                (p.GetValue(o.CaPasswordFile) is not null, "--ca-password-file"),
                (notBefore is not null, "--not-before"), (notAfter is not null, "--not-after"), (bundle, "--bundle"),
            })
            {
                if (given)
                {
                    throw CertCli.Usage($"flag '--csr' is incompatible with flag '{flag}'");
                }
            }
        }
        else
        {
            if (bundle && profile != StepProfile.Leaf)
            {
                throw CertCli.Usage($"flag '--bundle' is incompatible with flag '--profile {profile.Name()}'");
            }

            if (profile.IsSelfSigned())
            {
                if (caPath is not null || caKeyPath is not null)
                {
                    throw CertCli.Usage($"flag '{(caPath is not null ? "--ca" : "--ca-key")}' is incompatible with flag '--profile {profile.Name()}'");
                }

                if (profile == StepProfile.SelfSigned && !p.GetValue(o.Subtle))
                {
                    throw CertCli.Usage("'--profile self-signed' requires the '--subtle' flag");
                }
            }
            else if (caPath is null || caKeyPath is null)
            {
                throw CertCli.Usage($"'--profile {profile.Name()}' requires the '{(caPath is null ? "--ca" : "--ca-key")}' flag");
            }
        }

        if (noPassword && !insecure)
        {
            throw CertCli.Usage("flag '--no-password' requires the '--insecure' flag");
        }

        if (noPassword && passwordFile is not null)
        {
            throw CertCli.Usage("flag '--no-password' is incompatible with flag '--password-file'");
        }

        KeySpec? spec = null;
        if (existingKeyPath is not null)
        {
            KeyOptions.RejectWithKey(p, o.Kty, o.Crv, o.Size);
        }
        else
        {
            spec = KeyOptions.Spec(p, o.Kty, o.Crv, o.Size);
        }

        // step prompts for the key password on the TTY; we never prompt, so the choice must be explicit.
        var writesKey = keyPath is not null;
        if (writesKey && passwordFile is null && !noPassword)
        {
            throw CertCli.Usage(
                "a password is required to encrypt the private key and this tool never prompts: " +
                "use '--password-file <file>', or '--no-password --insecure' to store the key unencrypted");
        }

        var (nb, na) = csr ? (default, default) : StepValidity.Resolve(notBefore, notAfter, profile, time);
        var keyPassword = passwordFile is null ? null : InputFiles.ReadPassword(passwordFile);

        // Everything that can be checked is checked before the first file is written.
        var needsCa = !csr && !profile.IsSelfSigned();
        using var caCert = needsCa ? CertificatePem.ReadSingle(InputFiles.Read(caPath!), caPath!) : null;
        using var caKey = needsCa ? KeyOptions.LoadKey(caKeyPath!, p.GetValue(o.CaPasswordFile), "--ca-password-file") : null;
        if (needsCa)
        {
            IssuerValidation.EnsureCanIssue(caCert!, caKey!, profile, time.GetUtcNow(), caPath!, caKeyPath!);
        }

        using var key = existingKeyPath is not null
            ? KeyOptions.LoadKey(existingKeyPath, passwordFile, "--password-file")
            : PrivateKey.Generate(spec!);

        string output;
        if (csr)
        {
            output = PemCodec.Encode(PemLabels.CertificateRequest, SigningRequests.Create(subject, sans, key));
        }
        else
        {
            var template = new CertificateTemplate(profile, subject, sans, key.ExportSubjectPublicKeyInfo(), nb, na);
            using var certificate = StepCertificateFactory.Create(template, profile.IsSelfSigned() ? key : caKey!, caCert);
            output = CertificatePem.Write(certificate) + (bundle ? CertificatePem.Write(caCert!) : string.Empty);
        }

        var keyPem = writesKey ? PrivateKeyPem.Write(key, keyPassword) : null;
        OutputFiles.WriteKeyThenCertificate(keyPath, keyPem, crtPath, output, force);

        stderr.WriteLine(csr
            ? $"Your certificate signing request has been saved in {crtPath}."
            : $"Your certificate has been saved in {crtPath}.");
        if (writesKey)
        {
            stderr.WriteLine($"Your private key has been saved in {keyPath}.");
        }

        return 0;
    }

    private sealed class CreateOptions
    {
        public Option<string?> Profile { get; } = new("--profile") { Description = "leaf (default), intermediate-ca, root-ca or self-signed.", DefaultValueFactory = _ => "leaf" };

        public Option<string?> Ca { get; } = new("--ca") { Description = "The issuer certificate." };

        public Option<string?> CaKey { get; } = new("--ca-key") { Description = "The issuer private key." };

        public Option<string?> CaPasswordFile { get; } = new("--ca-password-file") { Description = "File holding the password of --ca-key." };

        public Option<string?> PasswordFile { get; } = new("--password-file") { Description = "File holding the password to encrypt the new key (or decrypt --key)." };

        public Option<bool> NoPassword { get; } = new("--no-password") { Description = "Write the key unencrypted (requires --insecure)." };

        public Option<bool> Insecure { get; } = new("--insecure") { Hidden = true };

        public Option<string?> NotBefore { get; } = new("--not-before") { Description = "Start of validity: RFC 3339 time or duration from now (e.g. -1h)." };

        public Option<string?> NotAfter { get; } = new("--not-after") { Description = "End of validity: RFC 3339 time or duration from now (e.g. 8760h)." };

        public Option<string[]> San { get; } = new("--san") { Description = "Subject alternative name (repeatable): DNS name, IP, email or URI." };

        public Option<string?> Kty { get; } = new("--kty") { Description = "Key type: EC (default), RSA or OKP." };

        public Option<string?> Crv { get; } = new("--crv", "--curve") { Description = "Curve: P-256 (default), P-384, P-521; Ed25519 for OKP." };

        public Option<int?> Size { get; } = new("--size") { Description = "RSA key size in bits (default 2048)." };

        public Option<string?> Key { get; } = new("--key") { Description = "Use this existing private key instead of generating one." };

        public Option<bool> Bundle { get; } = new("--bundle") { Description = "Append the issuer certificate to the certificate file (leaf only)." };

        public Option<bool> Csr { get; } = new("--csr") { Description = "Write a certificate signing request instead of a certificate." };

        public Option<bool> Subtle { get; } = new("--subtle") { Description = "Allow the self-signed profile." };

        public Option<bool> Force { get; } = new("--force", "-f") { Description = "Overwrite existing files." };

        public IEnumerable<Option> All =>
        [
            Profile, Ca, CaKey, CaPasswordFile, PasswordFile, NoPassword, Insecure, NotBefore, NotAfter, San,
            Kty, Crv, Size, Key, Bundle, Csr, Subtle, Force,
        ];
    }
}
