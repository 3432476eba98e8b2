# The sender of the digest, alerts and failure notices. An email identity is verified by clicking
# the link AWS sends; a domain identity by the DKIM records in the output `ses_dkim_tokens`.
# Out of the SES sandbox (a support request), any recipient can be mailed.
resource "aws_sesv2_email_identity" "sender" {
  email_identity = local.ses_identity
}
