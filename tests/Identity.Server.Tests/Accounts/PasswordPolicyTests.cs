using Identity.Server.Accounts;
using Microsoft.Extensions.Options;

namespace Identity.Server.Tests.Accounts;

public sealed class PasswordPolicyTests
{
    [Fact]
    public void ShippedList_HoldsTheThreeThousandMostCommonPasswords()
    {
        var common = new CommonPasswords();
        Assert.Equal(3000, common.Count);
        Assert.True(common.Contains("123456"));
        Assert.True(common.Contains("PASSWORD"), "the check ignores case");
        Assert.False(common.Contains("correct horse battery staple"));
    }

    [Theory]
    [InlineData("😀😁😂🤣", "PasswordTooShort")] // 8 UTF-16 units, 4 characters
    [InlineData("😀😁😂🤣🥲😊😇🙂", "")]
    [InlineData("e\u0301e\u0301e\u0301e\u0301", "")] // combining accents count as characters too: 8 code points
    [InlineData("correct\0horse battery", "PasswordHasControlCharacters")]
    [InlineData("correct horse\u0085battery", "PasswordHasControlCharacters")]
    [InlineData("\t\t\t\t\t\t\t\t", "PasswordHasControlCharacters")]
    [InlineData("        ", "PasswordOnlySpaces")]
    [InlineData("\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000", "PasswordOnlySpaces")]
    [InlineData("   ", "PasswordTooShort")]
    [InlineData("", "PasswordTooShort")]
    [InlineData("  spaced   out  ", "")]
    [InlineData("iloveyou", "PasswordTooCommon")]
    public void Policy_CountsCodePoints_AndRefusesWhatCannotBeTyped(string escaped, string expected)
    {
        var policy = new PasswordPolicy(new CommonPasswords(), Options.Create(new AccountsOptions()));

        var result = policy.Validate(System.Text.RegularExpressions.Regex.Unescape(escaped));

        Assert.Equal(expected, string.Join(",", result.Errors.Select(e => e.Code)));
    }

    [Fact]
    public void Maximum_CountsCodePoints()
    {
        var policy = new PasswordPolicy(new CommonPasswords(), Options.Create(new AccountsOptions()));
        Assert.True(policy.Validate(string.Concat(Enumerable.Repeat("😀", 128))).Succeeded);
        Assert.Equal("PasswordTooLong", Assert.Single(policy.Validate(string.Concat(Enumerable.Repeat("😀", 129))).Errors).Code);
    }
}
