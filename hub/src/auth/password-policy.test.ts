import { describe, expect, it } from 'vitest';
import { passwordWeakness } from './password-policy';
import { PasswordSchema } from './passwords';

describe('password policy', () => {
  it.each([
    ['short', 'at least 12 characters'],
    ['password1234', 'a commonly used password'],
    ['P@ssw0rd2024!', 'a commonly used password'],
    ['Coffee!!2026', 'a commonly used password'],
    ['iloveyou 1234', 'a commonly used password'],
    ['qwertyuiop12', 'a commonly used password'],
    ['passwordpassword', 'a commonly used password'],
    ['dragondragon', 'a repeated pattern'],
    ['abcabcabcabc', 'a repeated pattern'],
    ['aaaaaaaaaaaaaaa', 'a repeated pattern'],
    ['112233112233x', 'too few different characters'],
    ['123456789012', 'a commonly used password'],
    ['98765432109876', 'a keyboard or alphabet sequence'],
    ['abcdefghijklmnop', 'a keyboard or alphabet sequence'],
    ['zyxwvutsrqpo', 'a keyboard or alphabet sequence'],
    ['poiuytrewq!!', 'a keyboard or alphabet sequence'],
  ])('refuses %j (%s)', (password, reason) => {
    expect(passwordWeakness(password)).toBe(reason);
    if (password.length >= 12) expect(PasswordSchema.safeParse(password).success).toBe(false);
  });

  it('refuses passwords built from the account email or name', () => {
    const context = { email: 'marianne.dupont@roastery.test', name: 'Marianne Dupont' };
    expect(passwordWeakness('marianne.dupont@roastery.test', context)).toBe(
      'contains your email address or name',
    );
    expect(passwordWeakness('Dupont-Family-2026', context)).toBe('contains your email address or name');
    expect(passwordWeakness('xx MARIANNE xx 77', context)).toBe('contains your email address or name');
    // The domain says nothing about the account: a passphrase mentioning it is fine.
    expect(passwordWeakness('the roastery opens at nine', context)).toBeNull();
  });

  it.each([
    'correct horse battery staple',
    'a brand new passphrase',
    'reset by the admin 123',
    'Tr0ub4dor&3-espresso-lake',
    'kL9#vQ2!mZ7@',
  ])('accepts %j', (password) => {
    expect(passwordWeakness(password, { email: 'someone@example.test', name: 'Some One' })).toBeNull();
    expect(PasswordSchema.safeParse(password).success).toBe(true);
  });
});
