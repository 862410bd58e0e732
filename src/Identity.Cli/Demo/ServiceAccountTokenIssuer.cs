using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Identity.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Cli.Demo;

/// <summary>
/// A stand-in for a cluster's ServiceAccount token issuer, for local runs and the two-cluster demo: mints
/// ES256 tokens shaped like projected ServiceAccount tokens and publishes the matching JWKS and OIDC discovery
/// document, so <see cref="JwksTokenValidator"/> can verify them exactly as it would a real cluster's.
/// </summary>
/// <remarks>
/// Not a production issuer: no revocation, no bound-object checks. It lives with the demo, not in Identity.Kubernetes,
/// so the product library needs no ASP.NET and ships no token minter; the Kubernetes, server, bench and fuzz projects
/// compile this same file in (a linked Compile item) to mint the tokens they verify.
/// </remarks>
internal sealed class ServiceAccountTokenIssuer : IDisposable
{
    /// <summary>Path of the discovery document, relative to the issuer URL.</summary>
    public const string DiscoveryPath = "/.well-known/openid-configuration";

    /// <summary>Path of the key set, relative to the issuer URL (the API server's path).</summary>
    public const string JwksPath = "/openid/v1/jwks";

    private static readonly string[] IdTokenResponseTypes = ["id_token"];
    private static readonly string[] PublicSubjectTypes = ["public"];
    private static readonly string[] SigningAlgorithms = [SecurityAlgorithms.EcdsaSha256];

    private readonly ECDsa _key;
    private readonly TimeProvider _timeProvider;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Creates an issuer named <paramref name="issuer"/> signing with <paramref name="key"/> (a new P-256 key when null).</summary>
    public ServiceAccountTokenIssuer(string issuer, ECDsa? key = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        _key = key ?? ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (_key.KeySize != 256)
        {
            throw new ArgumentException("ServiceAccount token issuer keys must be ECDSA P-256 (ES256)", nameof(key));
        }

        Issuer = issuer;
        _timeProvider = timeProvider ?? TimeProvider.System;

        // Like the API server: the kid is derived from the public key, so every replica and restart agrees on it.
        KeyId = Base64UrlEncoder.Encode(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()));
        SigningKey = new ECDsaSecurityKey(_key) { KeyId = KeyId };
    }

    /// <summary>The <c>iss</c> of minted tokens.</summary>
    public string Issuer { get; }

    /// <summary>The <c>kid</c> of the signing key.</summary>
    public string KeyId { get; }

    /// <summary>The signing key (for tests that need to craft unusual tokens with it).</summary>
    public SecurityKey SigningKey { get; }

    /// <summary>
    /// Loads the PEM (PKCS#8) key at <paramref name="keyPath"/>, or creates one there (mode 0600, written before
    /// anything else) when the file does not exist.
    /// </summary>
    public static ServiceAccountTokenIssuer LoadOrCreate(string issuer, string keyPath, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyPath);
        var key = ECDsa.Create();
        try
        {
            if (File.Exists(keyPath))
            {
                key.ImportFromPem(File.ReadAllText(keyPath));
            }
            else
            {
                key.GenerateKey(ECCurve.NamedCurves.nistP256);
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var writer = new StreamWriter(keyPath, Encoding.ASCII, options);
                writer.Write(key.ExportPkcs8PrivateKeyPem());
            }

            return new ServiceAccountTokenIssuer(issuer, key, timeProvider);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Mints a token for ServiceAccount <paramref name="serviceAccount"/> in <paramref name="ns"/> with
    /// <c>sub = system:serviceaccount:NS:SA</c> and the <c>kubernetes.io</c> claims a projected token carries.
    /// </summary>
    /// <param name="audiences">Defaults to <c>identity.l5d.io</c>.</param>
    /// <param name="lifetime">Defaults to one hour.</param>
    /// <param name="serviceAccountUid">Defaults to a UID derived from namespace and name, stable across mints.</param>
    public string Mint(string ns, string serviceAccount, IEnumerable<string>? audiences = null, TimeSpan? lifetime = null, string? serviceAccountUid = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ns);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceAccount);
        var now = _timeProvider.GetUtcNow();
        var uid = serviceAccountUid ?? StableUid(ns, serviceAccount);
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = $"system:serviceaccount:{ns}:{serviceAccount}",
            [JwtRegisteredClaimNames.Aud] = (audiences ?? [TokenValidationOptions.LinkerdAudience]).ToList(),
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = new Dictionary<string, object>
            {
                ["namespace"] = ns,
                ["serviceaccount"] = new Dictionary<string, object> { ["name"] = serviceAccount, ["uid"] = uid },
            },
        };
        return MintClaims(claims, now, now + (lifetime ?? TimeSpan.FromHours(1)));
    }

    /// <summary>Signs arbitrary claims (plus <c>iss</c>, <c>iat</c>, <c>nbf</c>, <c>exp</c>) with this issuer's key.</summary>
    public string MintClaims(IDictionary<string, object> claims, DateTimeOffset notBefore, DateTimeOffset expires)
    {
        ArgumentNullException.ThrowIfNull(claims);
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            IssuedAt = notBefore.UtcDateTime,
            NotBefore = notBefore.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>The public key set, as the API server serves it at <see cref="JwksPath"/>.</summary>
    public string CreateJwksJson()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            json.WriteStartObject();
            json.WriteString("use", "sig");
            json.WriteString("kty", "EC");
            json.WriteString("kid", KeyId);
            json.WriteString("crv", "P-256");
            json.WriteString("alg", SecurityAlgorithms.EcdsaSha256);
            json.WriteString("x", Base64UrlEncoder.Encode(parameters.Q.X));
            json.WriteString("y", Base64UrlEncoder.Encode(parameters.Q.Y));
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The OIDC discovery document pointing at <paramref name="jwksUri"/>.</summary>
    public string CreateDiscoveryJson(Uri jwksUri)
    {
        ArgumentNullException.ThrowIfNull(jwksUri);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("issuer", Issuer);
            json.WriteString("jwks_uri", jwksUri.ToString());
            WriteArray(json, "response_types_supported", IdTokenResponseTypes);
            WriteArray(json, "subject_types_supported", PublicSubjectTypes);
            WriteArray(json, "id_token_signing_alg_values_supported", SigningAlgorithms);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteArray(Utf8JsonWriter json, string name, string[] values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    /// <summary>Writes the JWKS to <paramref name="path"/> (for <c>-jwks &lt;file&gt;</c>).</summary>
    public void WriteJwks(string path) => File.WriteAllText(path, CreateJwksJson());

    /// <summary>Serves <see cref="DiscoveryPath"/> and <see cref="JwksPath"/> (the JWKS URL is built from the request's host).</summary>
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // RequestDelegate handlers: no reflection over the delegate, as the native binary requires.
        endpoints.MapGet(JwksPath, context => Results.Text(CreateJwksJson(), "application/jwk-set+json").ExecuteAsync(context));
        endpoints.MapGet(DiscoveryPath, context =>
        {
            var jwks = new Uri($"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{JwksPath}");
            return Results.Text(CreateDiscoveryJson(jwks), "application/json").ExecuteAsync(context);
        });
    }

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();

    private static string StableUid(string ns, string serviceAccount)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(ns + "/" + serviceAccount));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }
}
