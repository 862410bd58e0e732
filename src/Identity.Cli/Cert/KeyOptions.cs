using System.CommandLine;
using Identity.Pki;
using Identity.Pki.Files;
using Identity.Pki.Keys;

namespace Identity.Cli.Cert;

/// <summary>step's <c>--kty/--crv/--size</c> rules (<c>utils.GetKeyDetailsFromCLI</c>) and key loading.</summary>
internal static class KeyOptions
{
    public static KeySpec Spec(ParseResult p, Option<string?> ktyOption, Option<string?> crvOption, Option<int?> sizeOption)
    {
        var kty = p.GetValue(ktyOption);
        var crv = p.GetValue(crvOption);
        var size = p.GetValue(sizeOption);
        if (kty is null)
        {
            if (size is not null)
            {
                throw CertCli.Usage("flag '--size' requires the '--kty' flag");
            }

            if (crv is not null)
            {
                throw CertCli.Usage("flag '--crv' requires the '--kty' flag");
            }

            return KeySpec.Default;
        }

        switch (kty.ToUpperInvariant())
        {
            case "EC":
                if (size is not null)
                {
                    throw CertCli.Usage("flag '--size' is incompatible with flag '--kty EC'");
                }

                return crv switch
                {
                    null => KeySpec.Default,
                    KeySpec.P256 or KeySpec.P384 or KeySpec.P521 => KeySpec.Ec(crv),
                    _ => throw CertCli.Usage($"invalid value '{crv}' for flag '--crv'; options are P-256, P-384, or P-521"),
                };
            case "RSA":
                if (crv is not null)
                {
                    throw CertCli.Usage("flag '--crv' is incompatible with flag '--kty RSA'");
                }

                var bits = size ?? KeySpec.DefaultRsaBits;
                if (bits < KeySpec.MinRsaBits)
                {
                    // step allows smaller keys with --insecure; we never generate them.
                    throw CertCli.Usage("the size of the RSA key should be at least 2048 bits");
                }

                return KeySpec.Rsa(bits);
            case "OKP":
                if (size is not null)
                {
                    throw CertCli.Usage("flag '--size' is incompatible with flag '--kty OKP'");
                }

                return crv is null or KeySpec.Ed25519Curve
                    ? KeySpec.Ed25519
                    : throw CertCli.Usage($"invalid value '{crv}' for flag '--crv'; options are Ed25519");
            default:
                throw CertCli.Usage($"invalid value '{kty}' for flag '--kty'; options are EC, RSA, or OKP");
        }
    }

    public static void RejectWithKey(ParseResult p, Option<string?> kty, Option<string?> crv, Option<int?> size)
    {
        if (p.GetValue(kty) is not null)
        {
            throw CertCli.Usage("flag '--key' is incompatible with flag '--kty'");
        }

        if (p.GetValue(crv) is not null)
        {
            throw CertCli.Usage("flag '--key' is incompatible with flag '--crv'");
        }

        if (p.GetValue(size) is not null)
        {
            throw CertCli.Usage("flag '--key' is incompatible with flag '--size'");
        }
    }

    /// <summary>Loads a key file, decrypting it with the password file when it is encrypted.</summary>
    public static PrivateKey LoadKey(string path, string? passwordFile, string passwordFlag)
    {
        var data = InputFiles.Read(path);
        var encrypted = PrivateKeyPem.IsEncrypted(data, path);
        if (encrypted && passwordFile is null)
        {
            throw new PkiException($"{path} is encrypted: use '{passwordFlag} <file>' to give its password (this tool never prompts)");
        }

        var key = PrivateKeyPem.Read(data, path, encrypted ? InputFiles.ReadPassword(passwordFile!) : null);
        if (key is RsaPrivateKey { KeySize: < KeySpec.MinRsaBits })
        {
            key.Dispose();
            throw new PkiException($"{path}: the size of the RSA key should be at least 2048 bits");
        }

        return key;
    }
}
