using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki;
using Identity.Pki.Certificates;
using Identity.Pki.Files;
using Identity.Pki.Keys;
using Identity.Pki.Time;

namespace Identity.Cli.Cert;

/// <summary>
/// <c>identity cert sign &lt;csr&gt; &lt;issuer.crt&gt; &lt;issuer.key&gt;</c>: step's <c>certificate sign</c>. Verifies the
/// CSR signature, issues a leaf-profile certificate for the CSR's key with its CN and SANs (the CN when the CSR
/// has no SAN), and prints the PEM to stdout.
/// </summary>
internal static class SignCommand
{
    public static Command Create(TimeProvider time)
    {
        var csrFile = new Argument<string>("csr-file") { Description = "The certificate signing request." };
        var crtFile = new Argument<string>("crt-file") { Description = "The issuer certificate." };
        var keyFile = new Argument<string>("key-file") { Description = "The issuer private key." };
        var profile = new Option<string?>("--profile") { Description = "Only 'leaf' is supported.", DefaultValueFactory = _ => "leaf" };
        var notBefore = new Option<string?>("--not-before") { Description = "Start of validity: RFC 3339 time or duration from now." };
        var notAfter = new Option<string?>("--not-after") { Description = "End of validity: RFC 3339 time or duration from now." };
        var passwordFile = new Option<string?>("--password-file") { Description = "File holding the password of the issuer key." };
        var bundle = new Option<bool>("--bundle") { Description = "Print the issuer certificate after the new one." };

        var command = new Command("sign", "Sign a certificate signing request with a CA (leaf profile).");
        command.Arguments.Add(csrFile);
        command.Arguments.Add(crtFile);
        command.Arguments.Add(keyFile);
        command.Options.Add(profile);
        command.Options.Add(notBefore);
        command.Options.Add(notAfter);
        command.Options.Add(passwordFile);
        command.Options.Add(bundle);
        command.SetAction(p => CertCli.Run(p, (stdout, _) =>
        {
            if (p.GetValue(profile) is { } name && name != "leaf")
            {
                throw CertCli.Usage($"invalid value '{name}' for flag '--profile'; options are leaf");
            }

            var csrPath = p.GetValue(csrFile)!;
            var caPath = p.GetValue(crtFile)!;
            var caKeyPath = p.GetValue(keyFile)!;
            var (nb, na) = StepValidity.Resolve(p.GetValue(notBefore), p.GetValue(notAfter), StepProfile.Leaf, time);
            var request = SigningRequests.Read(InputFiles.Read(csrPath), csrPath);
            if (request.CommonName.Length == 0 && request.Sans.IsEmpty)
            {
                throw new PkiException($"{csrPath} has neither a common name nor subject alternative names");
            }

            using (var requested = PublicKey.CreateFromSubjectPublicKeyInfo(request.SubjectPublicKeyInfo, out int _).GetRSAPublicKey())
            {
                if (requested is { KeySize: < KeySpec.MinRsaBits })
                {
                    throw new PkiException($"{csrPath}: the size of the RSA key should be at least 2048 bits");
                }
            }

            using var caCert = CertificatePem.ReadSingle(InputFiles.Read(caPath), caPath);
            using var caKey = KeyOptions.LoadKey(caKeyPath, p.GetValue(passwordFile), "--password-file");
            IssuerValidation.EnsureCanIssue(caCert, caKey, StepProfile.Leaf, time.GetUtcNow(), caPath, caKeyPath);
            var template = new CertificateTemplate(StepProfile.Leaf, request.CommonName, [], request.SubjectPublicKeyInfo, nb, na)
            {
                ExactSans = request.Sans.IsEmpty ? null : request.Sans,
            };
            using var certificate = StepCertificateFactory.Create(template, caKey, caCert);
            stdout.Write(CertificatePem.Write(certificate));
            if (p.GetValue(bundle))
            {
                stdout.Write(CertificatePem.Write(caCert));
            }

            return 0;
        }));
        return command;
    }
}
