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
    private readonly IssuerStore _store;
    private readonly IdentityServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ServingCertificate> _logger;
    private readonly Lock _gate = new();
    private State? _current;

    public ServingCertificate(IssuerStore store, IOptions<IdentityServerOptions> options, TimeProvider time, ILogger<ServingCertificate> logger)
    {
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        store.Swapped += snapshot => Renew(snapshot);
        store.Ticked += () =>
        {
            var state = Volatile.Read(ref _current);
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
            var state = Volatile.Read(ref _current);
            if (state is null && _store.Current is { } snapshot)
            {
                state = Renew(snapshot);
            }

            return state?.Context;
        }
    }

    /// <summary>The leaf currently presented (for tests and diagnostics).</summary>
    public X509Certificate2? Certificate => Volatile.Read(ref _current)?.Certificate;

    private State? Renew(IssuerSnapshot snapshot)
    {
        lock (_gate)
        {
            if (_current is { } existing && ReferenceEquals(existing.Issuer, snapshot) && _time.GetUtcNow() < existing.RenewAt)
            {
                return existing;
            }

            try
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var now = _time.GetUtcNow();
                var (notBefore, notAfter) = LeafIssuer.Window(snapshot, now, _options.IssuanceLifetime, _options.ClockSkewAllowance);
                var issued = LeafIssuer.Issue(snapshot, _options.ServerIdentity, key.ExportSubjectPublicKeyInfo(), notBefore, notAfter);
                using var leaf = X509CertificateLoader.LoadCertificate(issued.Der);
                var withKey = leaf.CopyWithPrivateKey(key);
                var chain = new X509Certificate2Collection(new[] { snapshot.Issuer }.Concat(snapshot.FileChain).ToArray());
                var context = SslStreamCertificateContext.Create(withKey, chain, offline: true);
                var state = new State(snapshot, withKey, context, now + ((notAfter - now) * 0.7));
                Volatile.Write(ref _current, state);
                Log.ServingCertificateIssued(_logger, _options.ServerIdentity, new Rfc3339Time(notAfter));
                return state;
            }
            catch (CryptographicException e)
            {
                Log.ServingCertificateFailed(_logger, e.Message);
                return _current;
            }
        }
    }

    private sealed record State(IssuerSnapshot Issuer, X509Certificate2 Certificate, SslStreamCertificateContext Context, DateTimeOffset RenewAt);
}
