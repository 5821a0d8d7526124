using Identity.Server.Accounts;

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
}
