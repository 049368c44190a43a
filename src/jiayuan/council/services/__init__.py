"""All writes of the council app. Each service is atomic and refuses bad input with a
``jiayuan.core.errors`` DomainError (Chinese message, machine code, details), changing nothing."""
