using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Time;
using Identity.Server.Issuance;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Identity.Server.Hosting;

/// <summary>
/// The TLS certificate the server issues to itself from its own issuer when <see cref="IdentityServerOptions.Tls"/>
/// is set. Re-issued when the issuer rotates and when 70% of its lifetime has passed (checked on every reload tick).
/// </summary>
internal sealed class ServingCertificate
{
    private readonly IssuerStore store;
    private readonly IdentityServerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<ServingCertificate> logger;
    private readonly Lock gate = new();
    private State? current;

    public ServingCertificate(IssuerStore store, IOptions<IdentityServerOptions> options, TimeProvider time, ILogger<ServingCertificate> logger)
    {
        this.store = store;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        store.Swapped += snapshot => Renew(snapshot);
        store.Ticked += () =>
        {
            var state = Volatile.Read(ref current);
            if (store.Current is { } snapshot && (state is null || time.GetUtcNow() >= state.RenewAt))
            {
                Renew(snapshot);
            }
        };
    }

    /// <summary>The certificate context to present, or null when no issuer is loaded yet.</summary>
    public SslStreamCertificateContext? Context
    {
        get
        {
            var state = Volatile.Read(ref current);
            if (state is null && store.Current is { } snapshot)
            {
                state = Renew(snapshot);
            }

            return state?.Context;
        }
    }

    /// <summary>The leaf currently presented (for tests and diagnostics).</summary>
    public X509Certificate2? Certificate => Volatile.Read(ref current)?.Certificate;

    private State? Renew(IssuerSnapshot snapshot)
    {
        lock (gate)
        {
            if (current is { } existing && ReferenceEquals(existing.Issuer, snapshot) && time.GetUtcNow() < existing.RenewAt)
            {
                return existing;
            }

            try
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var now = time.GetUtcNow();
                var (notBefore, notAfter) = LeafIssuer.Window(snapshot, now, options.IssuanceLifetime, options.ClockSkewAllowance);
                var issued = LeafIssuer.Issue(snapshot, options.ServerIdentity, key.ExportSubjectPublicKeyInfo(), notBefore, notAfter);
                using var leaf = X509CertificateLoader.LoadCertificate(issued.Der);
                var withKey = leaf.CopyWithPrivateKey(key);
                var chain = new X509Certificate2Collection(new[] { snapshot.Issuer }.Concat(snapshot.FileChain).ToArray());
                var context = SslStreamCertificateContext.Create(withKey, chain, offline: true);
                var state = new State(snapshot, withKey, context, now + ((notAfter - now) * 0.7));
                Volatile.Write(ref current, state);
                Log.ServingCertificateIssued(logger, options.ServerIdentity, new Rfc3339Time(notAfter));
                return state;
            }
            catch (CryptographicException e)
            {
                Log.ServingCertificateFailed(logger, e.Message);
                return current;
            }
        }
    }

    private sealed record State(IssuerSnapshot Issuer, X509Certificate2 Certificate, SslStreamCertificateContext Context, DateTimeOffset RenewAt);
}
