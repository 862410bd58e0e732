using System.Diagnostics;
using System.Security.Cryptography;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Identity.Pki.Time;
using Identity.Pki.X509;
using Identity.Protocol;
using Identity.Server.Events;
using Identity.Server.Issuance;
using Identity.Server.Metrics;
using Identity.Server.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Server.Certify;

/// <summary>
/// <c>io.linkerd.proxy.identity.Identity/Certify</c> with linkerd-identity's validation order, status codes and
/// messages, plus proof of possession, algorithm restrictions and a certificate built only from verified facts.
/// </summary>
internal sealed class CertifyService : IdentityGrpc.IdentityBase
{
    private readonly IssuerStore _store;
    private readonly ITokenValidator _validator;
    private readonly IIssuerEventSink _events;
    private readonly IdentityMetrics _metrics;
    private readonly CsrParser _csrParser;
    private readonly CertifyAdmission _admission;
    private readonly TrustDomain _trustDomain;
    private readonly IdentityServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CertifyService> _logger;

    public CertifyService(IssuerStore store, ITokenValidator validator, IIssuerEventSink events, IdentityMetrics metrics,
        CsrParser csrParser, CertifyAdmission admission, IOptions<IdentityServerOptions> options, TimeProvider time, ILogger<CertifyService> logger)
    {
        _admission = admission;
        _store = store;
        _validator = validator;
        _events = events;
        _metrics = metrics;
        _csrParser = csrParser;
        _options = options.Value;
        _trustDomain = new TrustDomain(_options.ControllerNamespace, _options.TrustDomain);
        _time = time;
        _logger = logger;
    }

    public override async Task<CertifyResponse> Certify(CertifyRequest request, ServerCallContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            using var lease = await _admission.AcquireAsync(context.Deadline, context.CancellationToken);
            return await CertifyCore(request, context.CancellationToken);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            // No audit line per refusal: in a storm that log would itself be the overload. The metric counts them.
            code = e.StatusCode;
            throw;
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            Log.Refused(_logger, ForLog(request.Identity), e.StatusCode.ToString(), ForLog(e.Status.Detail));
            throw;
        }
        catch (OperationCanceledException)
        {
            code = StatusCode.Cancelled;
            throw;
        }
        catch (Exception e)
        {
            // A bug, not a verdict: logged once with where it was thrown (never the request or its message, which
            // may echo input), counted by type, and answered with a fixed text.
            code = StatusCode.Internal;
            var type = e.GetType().FullName ?? e.GetType().Name;
            Log.UnexpectedError(_logger, type, ThrowingFrame(e));
            _metrics.RecordUnexpectedError(type);
            throw Fail(StatusCode.Internal, UnexpectedErrorMessage);
        }
        finally
        {
            _metrics.RecordCertify(code.ToString(), Stopwatch.GetElapsedTime(started));
        }
    }

    private async Task<CertifyResponse> CertifyCore(CertifyRequest request, CancellationToken cancellationToken)
    {
        // One snapshot for the whole call: like Linkerd's read lock, an in-flight call finishes with the issuer it
        // started with even if a rotation lands meanwhile.
        var issuer = _store.Current ?? throw Fail(StatusCode.Unavailable, "cert issuer not ready yet");
        var identity = request.Identity;
        if (identity.Length == 0)
        {
            throw Fail(StatusCode.InvalidArgument, "missing identity");
        }

        if (request.Token.IsEmpty)
        {
            throw Fail(StatusCode.InvalidArgument, "missing token");
        }

        if (request.CertificateSigningRequest.IsEmpty)
        {
            throw Fail(StatusCode.InvalidArgument, "missing certificate signing request");
        }

        // Before each expensive stage: a call whose deadline passed or whose caller left is dropped, not served.
        Continue(cancellationToken);
        var parsed = _csrParser.Parse(request.CertificateSigningRequest.Memory);
        var csr = parsed.Value ?? throw Fail(StatusCode.InvalidArgument, parsed.Error!);

        var now = _time.GetUtcNow();
        if (IssuerLoader.CheckValidity(issuer, now) is { } invalid)
        {
            Log.IssuerInvalidAtRequest(_logger, invalid);
            _events.IssuerValidationFailed(invalid, identity);
            throw Fail(StatusCode.Unknown, invalid);
        }

        CheckCsr(csr, identity);

        Continue(cancellationToken);
        var username = await Review(request.Token.Memory, identity, cancellationToken);
        if (!_trustDomain.TryMapUsername(username, out var tokenIdentity, out var usernameError))
        {
            throw Fail(StatusCode.InvalidArgument, usernameError);
        }

        if (tokenIdentity != identity)
        {
            throw Fail(StatusCode.FailedPrecondition,
                $"requested identity did not match provided token: requested={identity}; found={tokenIdentity}");
        }

        if (!csr.IsEcdsa)
        {
            throw Fail(StatusCode.Internal, $"CSR must contain an ECDSA public key: {csr.KeyAlgorithm}");
        }

        if (_options.RequireP256CsrKey && !csr.IsP256)
        {
            throw Fail(StatusCode.InvalidArgument, $"CSR public key must use the P-256 curve, not {csr.CurveName ?? "an unknown curve"}");
        }

        // Time is read again: the token review may have taken a while.
        Continue(cancellationToken);
        now = _time.GetUtcNow();
        var (notBefore, notAfter) = LeafIssuer.Window(issuer, now, _options.IssuanceLifetime, _options.ClockSkewAllowance);
        IssuedLeaf leaf;
        try
        {
            leaf = LeafIssuer.Issue(issuer, identity, csr.SubjectPublicKeyInfo, notBefore, notAfter);
        }
        catch (CryptographicException e)
        {
            throw Fail(StatusCode.Internal, e.Message);
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(leaf.Der));
        Log.Issued(_logger, identity, new Rfc3339Time(leaf.NotAfter), sha256, Convert.ToHexString(leaf.Serial));
        _metrics.RecordIssued();
        var segments = identity.Split('.');
        _events.IssuedLeafCertificate(segments[1], segments[0],
            $"issued certificate for {identity} until {GoTime.Rfc3339(leaf.NotAfter)}: {sha256}");
        var response = new CertifyResponse
        {
            LeafCertificate = UnsafeByteOperations.UnsafeWrap(leaf.Der),
            ValidUntil = Timestamp.FromDateTimeOffset(leaf.NotAfter),
        };
        response.IntermediateCertificates.AddRange(issuer.Intermediates);
        return response;
    }

    private void CheckCsr(ParsedCsr csr, string identity)
    {
        if (csr.DnsNames.Length != 1)
        {
            throw Fail(StatusCode.FailedPrecondition, "CSR must have exactly one DNSName");
        }

        if (csr.DnsNames[0] != identity)
        {
            throw Fail(StatusCode.FailedPrecondition, $"CSR name does not match requested identity: csr={csr.DnsNames[0]}; req={identity}");
        }

        if (!string.IsNullOrEmpty(csr.CommonName) && csr.CommonName != identity)
        {
            throw Fail(StatusCode.FailedPrecondition, $"invalid CommonName: {csr.CommonName}");
        }

        if (csr.HasEmail)
        {
            throw Fail(StatusCode.FailedPrecondition, "cannot validate email addresses");
        }

        if (csr.HasIp)
        {
            throw Fail(StatusCode.FailedPrecondition, "cannot validate IP addresses");
        }

        if (csr.HasUri)
        {
            throw Fail(StatusCode.FailedPrecondition, "cannot validate URIs");
        }

        // Stricter than Linkerd, checked before the token review so unproven requests cost no API-server call.
        if (_options.RejectSha1Csr && csr.SignatureIsSha1)
        {
            throw Fail(StatusCode.InvalidArgument, "CSR is signed with SHA-1, which is not accepted");
        }

        if (!csr.SignatureSupported)
        {
            throw Fail(StatusCode.InvalidArgument, $"CSR signature algorithm {csr.SignatureAlgorithm} is not supported");
        }

        if (!csr.SignatureValid)
        {
            throw Fail(StatusCode.InvalidArgument, "CSR signature is invalid");
        }
    }

    private async Task<string> Review(ReadOnlyMemory<byte> token, string identity, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        TokenReviewResult result;
        try
        {
            result = await _validator.ReviewAsync(token, cancellationToken);
        }
        catch (TokenValidationUnavailableException e)
        {
            throw Fail(StatusCode.Internal, $"error validating token for {identity}: {e.Message}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(StatusCode.Internal, $"error validating token for {identity}: {e.Message}");
        }
        finally
        {
            _metrics.RecordTokenReview(Stopwatch.GetElapsedTime(started));
        }

        if (!string.IsNullOrEmpty(result.Error))
        {
            throw Fail(StatusCode.InvalidArgument, result.Error);
        }

        if (!result.Authenticated)
        {
            throw Fail(StatusCode.FailedPrecondition, "authentication token could not be authenticated");
        }

        return result.Username ?? "";
    }

    private void Continue(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            _metrics.RecordAdmissionRefused(IdentityMetrics.RefusedAbandoned);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The fixed answer to a call that hit a bug.</summary>
    public const string UnexpectedErrorMessage = "internal error while processing the certificate request";

    /// <summary>The frame that threw ("at Namespace.Type.Method(...)"), from the stack trace text, which Native AOT keeps.</summary>
    private static string ThrowingFrame(Exception e)
    {
        var trace = e.StackTrace;
        if (string.IsNullOrEmpty(trace))
        {
            return "(no stack trace)";
        }

        var end = trace.IndexOf('\n', StringComparison.Ordinal);
        var first = (end < 0 ? trace : trace[..end]).Trim();
        // A source location (" in /path/file.cs:line 12") says no more than the method and leaks build paths.
        var location = first.IndexOf(" in ", StringComparison.Ordinal);
        return location < 0 ? first : first[..location];
    }

    /// <summary>Request-controlled text in logs: bounded, and control characters escaped so one line stays one line.</summary>
    private static string ForLog(string text)
    {
        if (text.Length <= 512 && !text.Any(char.IsControl))
        {
            return text;
        }

        var bounded = text.Length > 512 ? text[..512] + "…" : text;
        return string.Concat(bounded.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    private static RpcException Fail(StatusCode code, string message) => new(new Status(code, message));
}
