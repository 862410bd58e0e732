using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Identity.Pki.X509;

/// <summary>
/// ECDSA verification for keys this project has already validated (<see cref="PublicKeyInfo"/>: allowed named curve,
/// uncompressed point on the curve), straight through OpenSSL's libcrypto, the library .NET itself uses here.
/// </summary>
/// <remarks>
/// Importing a public key through the platform API (<c>ImportSubjectPublicKeyInfo</c>, <c>ECDsa.Create(ECParameters)</c>)
/// costs about 90 µs on this project's machines, more than the verification itself (about 55 µs): OpenSSL 3 builds
/// and validates a new key object each time. For a CSR the key is used once, so a cold Certify paid that twice over.
/// Here each thread keeps one EC_KEY per curve and only sets its public point (EC_POINT_oct2point, which checks the
/// point is on the curve again) before ECDSA_verify: the cost is the verification's. Where libcrypto 3 cannot be
/// loaded, <see cref="IsAvailable"/> is false and callers use the platform API.
/// </remarks>
internal static unsafe partial class OpenSslEcdsaVerifier
{
    private const string LibCrypto = "libcrypto.so.3";

    private static readonly Lazy<bool> Available = new(() =>
        OperatingSystem.IsLinux() && NativeLibrary.TryLoad(LibCrypto, out _));

    [ThreadStatic]
    private static Dictionary<string, CurveKey>? t_keys;

    public static bool IsAvailable => Available.Value;

    /// <summary>Verifies a DER (RFC 3279) signature over <paramref name="data"/>; the key must have no <see cref="PublicKeyInfo.Problem"/>.</summary>
    public static bool Verify(PublicKeyInfo key, HashAlgorithmName hash, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var curve = key.Curve!;
        t_keys ??= new Dictionary<string, CurveKey>(StringComparer.Ordinal);
        if (!t_keys.TryGetValue(curve.Name, out var native))
        {
            native = new CurveKey(Nid(curve));
            t_keys[curve.Name] = native;
        }

        Span<byte> digest = stackalloc byte[64];
        var length = CryptographicOperations.HashData(hash, data, digest);
        var point = key.KeyBits.Span;
        fixed (byte* pointBytes = point)
        fixed (byte* digestBytes = digest)
        fixed (byte* signatureBytes = signature)
        {
            var valid = EC_POINT_oct2point(native.Group, native.Point, pointBytes, (nuint)point.Length, IntPtr.Zero) == 1
                && EC_KEY_set_public_key(native.Key, native.Point) == 1
                && ECDSA_verify(0, digestBytes, length, signatureBytes, signature.Length, native.Key) == 1;
            if (!valid)
            {
                // OpenSSL may leave reasons for a refusal on its per-thread error queue (3.0 does not for a bad
                // signature, but nothing promises it); .NET's own OpenSSL calls on this thread must not find them.
                ERR_clear_error();
            }

            return valid;
        }
    }

    private static int Nid(EllipticCurve curve) => curve.Name switch
    {
        "P-256" => 415, // NID_X9_62_prime256v1
        "P-384" => 715, // NID_secp384r1
        "P-521" => 716, // NID_secp521r1
        _ => throw new ArgumentOutOfRangeException(nameof(curve), curve.Name, "not an allowed curve"),
    };

    [LibraryImport(LibCrypto)]
    private static partial IntPtr EC_KEY_new_by_curve_name(int nid);

    [LibraryImport(LibCrypto)]
    private static partial void EC_KEY_free(IntPtr key);

    [LibraryImport(LibCrypto)]
    private static partial IntPtr EC_KEY_get0_group(IntPtr key);

    [LibraryImport(LibCrypto)]
    private static partial IntPtr EC_POINT_new(IntPtr group);

    [LibraryImport(LibCrypto)]
    private static partial void EC_POINT_free(IntPtr point);

    [LibraryImport(LibCrypto)]
    private static partial int EC_POINT_oct2point(IntPtr group, IntPtr point, byte* buffer, nuint length, IntPtr context);

    [LibraryImport(LibCrypto)]
    private static partial int EC_KEY_set_public_key(IntPtr key, IntPtr point);

    [LibraryImport(LibCrypto)]
    private static partial int ECDSA_verify(int type, byte* digest, int digestLength, byte* signature, int signatureLength, IntPtr key);

    [LibraryImport(LibCrypto)]
    private static partial void ERR_clear_error();

    /// <summary>One thread's key object for one curve; freed with the thread's statics.</summary>
    private sealed class CurveKey
    {
        public CurveKey(int nid)
        {
            Key = EC_KEY_new_by_curve_name(nid);
            if (Key == IntPtr.Zero)
            {
                ERR_clear_error();
                throw new CryptographicException($"libcrypto has no curve with NID {nid}");
            }

            Group = EC_KEY_get0_group(Key);
            Point = EC_POINT_new(Group);
            if (Point == IntPtr.Zero)
            {
                EC_KEY_free(Key);
                ERR_clear_error();
                throw new CryptographicException("libcrypto could not allocate an EC point");
            }
        }

        ~CurveKey()
        {
            EC_POINT_free(Point);
            EC_KEY_free(Key);
        }

        public IntPtr Key { get; }

        public IntPtr Group { get; }

        public IntPtr Point { get; }
    }
}
