// Canaries for the tests of the length cut (tests/sdk and tests/e2e): each secret as `context`
// (not secret), `kept` (the secret's part before the cut: what must not leave) and `rest` (after
// the cut).
export const SECRETS = {
  jwt: ['', 'eyJhbGciOiJIUzI1NiJ9.eyJjYW5h', 'cnkiOiJ5ZXMifQ.CANARYJWTsignature5x'],
  bearer: ['sent with Bearer ', 'CANARYB', 'EARER4abcdef123'],
  card: ['card ', '4111 1111 1111', ' 1111'],
  query: ['https://app.example/cb?token=', 'CANARYQ', 'UERY1'],
  urlPassword: ['postgres://admin:', 'CANARYURLP', 'W31@db.example/app'],
  jsonPassword: ['{"password":"', 'CANARYJSONP', 'W37"}'],
  basic: ['Basic ', 'Q0FOQVJZQkFT', 'SUMzOTp4'],
};
