namespace Identity.Pki.X509;

/// <summary>
/// The result of decoding untrusted bytes: a value, or the reason the bytes are not one. Malformed input is an
/// ordinary outcome for a CA, so the decoders report it as a value; only bugs surface as exceptions.
/// </summary>
/// <typeparam name="T">The decoded type.</typeparam>
public readonly struct Decoded<T>
    where T : class
{
    internal Decoded(T? value, string? error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The decoded value; null exactly when <see cref="Error"/> is set.</summary>
    public T? Value { get; }

    /// <summary>What is wrong with the input, worded for a user (no input bytes are echoed).</summary>
    public string? Error { get; }

    /// <summary>True when the input decoded.</summary>
    public bool IsValid => Error is null;

    /// <summary>The value, or a <see cref="PkiException"/> naming the source and the reason.</summary>
    /// <param name="source">What the bytes are (a file name, "CSR"), for the message.</param>
    public T ValueOrThrow(string source) =>
        Value ?? throw new PkiException($"error parsing {source}: {Error}");
}

/// <summary>Makes <see cref="Decoded{T}"/> values.</summary>
public static class Decoded
{
    /// <summary>A decoded value.</summary>
    public static Decoded<T> Ok<T>(T value)
        where T : class => new(value ?? throw new ArgumentNullException(nameof(value)), null);

    /// <summary>A refusal with its reason.</summary>
    public static Decoded<T> Fail<T>(string error)
        where T : class => new(null, error ?? throw new ArgumentNullException(nameof(error)));
}
