namespace Identity.Fuzz;

/// <summary>
/// One fuzz target: a function of untrusted bytes that asserts its parser's contract. It returns normally for every
/// input the contract allows (including refusals); an exception escaping <see cref="Run"/> is a finding, either a
/// <see cref="ContractViolationException"/> from the target's own checks or an exception the parser let through.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>The name on the command line and the corpus folder (fuzz/corpus/NAME).</summary>
    public abstract string Name { get; }

    /// <summary>What is fuzzed and what is asserted, for <c>identity-fuzz list</c>.</summary>
    public abstract string Description { get; }

    /// <summary>Runs one input.</summary>
    public abstract void Run(ReadOnlySpan<byte> input);
}

/// <summary>The parser accepted or answered something its contract forbids.</summary>
internal sealed class ContractViolationException : Exception
{
    public ContractViolationException()
    {
    }

    public ContractViolationException(string message)
        : base(message)
    {
    }

    public ContractViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Assertions for targets and the splitting of one input into several fields.</summary>
internal static class Contract
{
    public static void That(bool condition, string violation)
    {
        if (!condition)
        {
            throw new ContractViolationException(violation);
        }
    }

    /// <summary>
    /// Splits <paramref name="input"/> at the first <paramref name="count"/> - 1 occurrences of
    /// <paramref name="separator"/>; missing fields are empty, and the last field keeps any further separators.
    /// </summary>
    public static byte[][] Split(ReadOnlySpan<byte> input, byte separator, int count)
    {
        var fields = new byte[count][];
        for (var i = 0; i < count - 1; i++)
        {
            var at = input.IndexOf(separator);
            if (at < 0)
            {
                fields[i] = input.ToArray();
                input = [];
                continue;
            }

            fields[i] = input[..at].ToArray();
            input = input[(at + 1)..];
        }

        fields[count - 1] = input.ToArray();
        return fields;
    }
}
