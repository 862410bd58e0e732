using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Identity.Cli.Demo;
using Identity.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Fuzz;

/// <summary>
/// The fuzzing cluster's ServiceAccount token signer: a P-256 key derived from a fixed label, so the committed seed
/// tokens verify in every fuzzing process without any key file (it signs nothing outside fuzzing).
/// </summary>
internal static class FuzzJwks
{
    public const string TokenIssuer = "https://kubernetes.default.svc.cluster.local";

    private static readonly Lazy<ECDsa> Key = new(() =>
    {
        var d = SHA256.HashData("identity-fuzz ServiceAccount token signer"u8);
        return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
    });

    /// <summary>An issuer minting at the fuzzing clock (seed tokens live 100 years).</summary>
    public static ServiceAccountTokenIssuer Signer() =>
        new(TokenIssuer, Key.Value, new FakeTimeProvider(FuzzServer.Now.AddDays(-1)));

    /// <summary>Writes the signer's JWKS to a new temporary file and returns its path.</summary>
    public static string WriteJwks()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("identity-fuzz-jwks-").FullName, "jwks.json");
        File.WriteAllText(path, Signer().CreateJwksJson());
        return path;
    }

    /// <summary><c>identity serve -token-validation jwks</c>, the review cache off.</summary>
    public static void AddValidator(IServiceCollection services, string jwksFile) => services.AddIdentityTokenValidation(o =>
    {
        o.Mode = TokenValidationMode.Jwks;
        o.Kubeconfig = null;
        o.CacheTtl = TimeSpan.Zero;
        o.Jwks = jwksFile;
        o.TokenIssuer = TokenIssuer;
    });

    /// <summary>
    /// Whom a token says it is, if and only if this key really signed it (checked here independently of the
    /// validator under test); null otherwise.
    /// </summary>
    public static string? SignedIdentity(byte[] token)
    {
        var parts = Encoding.UTF8.GetString(token).Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
            if (!Key.Value.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256))
            {
                return null;
            }

            using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(parts[1]));
            var kubernetes = payload.RootElement.GetProperty("kubernetes.io");
            return FuzzServer.IdentityOf(kubernetes.GetProperty("namespace").GetString()!, kubernetes.GetProperty("serviceaccount").GetProperty("name").GetString()!);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}
