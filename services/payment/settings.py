from services.runtime import ServiceSettings


class PaymentSettings(ServiceSettings):
    http_port: int = 8003
    # Shared secret with the payment gateway; every callback's checksum is verified with it.
    gateway_secret: str = "sandbox-secret"
    gateway_partner_code: str = "MOTCUA"
    # Where the sandbox gateway sends its server-to-server callbacks (IPN).
    callback_url: str = "http://127.0.0.1:8003/payments/ipn"
    sandbox_pay_after_s: float = 0.2


settings = PaymentSettings()
